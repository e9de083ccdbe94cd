// The layer store: every layer unpacked once, keyed by its diff id (the digest of its
// uncompressed tar), shared read-only as an overlayfs lowerdir by every container of every
// image that has it.
//
//   layers/<hex>/diff/        the unpacked tree (overlay whiteouts and opaque dirs in place)
//   layers/<hex>/meta.json    diff id, sizes, when it was unpacked
//   layers/l/<short>          -> ../<hex>/diff: short names, so that a deep image's lowerdir
//                             option fits in one page (podman's trick)
//   layers/locks/<hex>        flock: one unpacker per layer at a time
//
// A layer is unpacked into a temp dir (DataRoot.tmp, same filesystem), checked against its
// diff id, synced, and renamed into place: a crash never leaves a half layer under a diff id.
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { syncfs } from '../../kernel/at.js';
import { InputError } from '../errors.js';
import { fsyncDir } from './blobs.js';
import { hexOf } from './digest.js';
import { lock, tempDir, type Release } from './locks.js';

export interface LayerMeta {
  diffId: string;
  /** Sum of the regular files' sizes (docker's layer size). */
  size: number;
  /** Bytes of the uncompressed tar (what `save` writes as layer.tar). */
  tarSize: number;
  entries: number;
  created: string;
}

export interface UnpackedLayer {
  /** The temp directory holding diff/ and meta.json, to be installed. */
  path: string;
  meta: LayerMeta;
}

export class LayerStore {
  constructor(
    readonly root: string,
    readonly tmpRoot: string,
  ) {}

  private dir(diffId: string): string {
    return join(this.root, hexOf(diffId));
  }

  diffDir(diffId: string): string {
    return join(this.dir(diffId), 'diff');
  }

  has(diffId: string): boolean {
    return existsSync(join(this.dir(diffId), 'meta.json'));
  }

  meta(diffId: string): LayerMeta {
    try {
      return JSON.parse(readFileSync(join(this.dir(diffId), 'meta.json'), 'utf8')) as LayerMeta;
    } catch {
      throw new InputError(`layer ${diffId} is not in the store`);
    }
  }

  /** A short, stable name for a layer (20 hex chars of a hash of its diff id). */
  static shortName(diffId: string): string {
    return createHash('sha256').update(`link:${hexOf(diffId)}`).digest('hex').slice(0, 20);
  }

  /** layers/l/<short>, created (or repaired) when missing. */
  link(diffId: string): string {
    const short = LayerStore.shortName(diffId);
    const linkDir = join(this.root, 'l');
    const path = join(linkDir, short);
    const target = `../${hexOf(diffId)}/diff`;
    let current: string | null = null;
    try {
      current = readlinkSync(path);
    } catch {
      /* missing */
    }
    if (current !== target) {
      mkdirSync(linkDir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      rmSync(tmp, { force: true });
      symlinkSync(target, tmp);
      renameSync(tmp, path);
    }
    return path;
  }

  /** Serialise unpackers of one layer (across processes). */
  lockLayer(diffId: string): Promise<Release> {
    const dir = join(this.root, 'locks');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return lock(join(dir, hexOf(diffId)), 'exclusive');
  }

  /**
   * Unpack a layer blob (tar, or gzip/zstd/xz-compressed tar) into `tmp`, hashing the
   * uncompressed tar; with `diffId`, a different digest is an error. `what` names the layer
   * in errors. Nothing is installed: see install().
   */
  async unpack(open: () => Readable, tmp: string, what: string, diffId?: string, onBytes?: (n: number) => void): Promise<UnpackedLayer> {
    const { decompressor, detectCompression, peek } = await import('./compression.js');
    const { head, stream } = await peek(open(), 6);
    const dec = decompressor(detectCompression(head), what);
    stream.on('error', (e) => dec.destroy(e));
    dec.on('close', () => stream.destroy());
    stream.pipe(dec);
    return this.unpackTar(dec, tmp, what, { ...(diffId !== undefined ? { diffId } : {}), ...(onBytes ? { onBytes } : {}) });
  }

  /**
   * Unpack an uncompressed tar stream into `tmp`, hashing it (its digest is the diff id);
   * with `copyTo`, the tar's bytes are also written to that new file (the layer's blob, for
   * import and commit, which make their tar as they go).
   */
  async unpackTar(tar: Readable, tmp: string, what: string, opts: { diffId?: string; onBytes?: (n: number) => void; copyTo?: string } = {}): Promise<UnpackedLayer> {
    // The tar code is loaded here, not with the store: `run` resolves images and lists layer
    // directories without it.
    const [{ Hasher }, { extractTree }, { readTar }] = await Promise.all([import('./digest.js'), import('./extract.js'), import('./tar.js')]);
    const path = join(tmp, `layer-${Math.random().toString(16).slice(2, 10)}`);
    const diff = join(path, 'diff');
    // Not recursive: a temp area removed meanwhile must not be created again.
    mkdirSync(path, { mode: 0o700 });
    mkdirSync(diff);
    chmodSync(diff, 0o755); // whatever the umask: the root of a rootfs is 0755 unless the archive says otherwise
    const copyFd = opts.copyTo !== undefined ? openSync(opts.copyTo, 'wx', 0o600) : -1;
    const hasher = new Hasher((n) => opts.onBytes?.(n), copyFd >= 0 ? copyFd : undefined);
    tar.on('error', (e) => hasher.destroy(e));
    tar.pipe(hasher);
    let stats;
    try {
      stats = await extractTree(readTar(hasher, what), diff, what);
      if (copyFd >= 0) fsyncSync(copyFd);
    } finally {
      if (copyFd >= 0) closeSync(copyFd);
      tar.destroy(); // a refused archive is not read to its end: stop its producer
    }
    const actual = hasher.digest();
    if (opts.diffId !== undefined && actual !== opts.diffId) {
      throw new InputError(`${what}: digest mismatch: the config says ${opts.diffId}, the layer's content is ${actual}`);
    }
    const meta: LayerMeta = { diffId: actual, size: stats.size, tarSize: hasher.bytes, entries: stats.entries, created: new Date().toISOString() };
    writeFileSync(join(path, 'meta.json'), JSON.stringify(meta));
    // Tests count unpacks (parallel loads must unpack each layer once).
    if (process.env.MYDOCKER_TEST_UNPACK_LOG) appendFileSync(process.env.MYDOCKER_TEST_UNPACK_LOG, `${actual}\n`);
    return { path, meta };
  }

  /**
   * Move an unpacked layer into place (the caller holds its layer lock). A layer already
   * there wins; ours is discarded.
   */
  install(layer: UnpackedLayer): void {
    const dest = this.dir(layer.meta.diffId);
    if (this.has(layer.meta.diffId)) {
      rmSync(layer.path, { recursive: true, force: true });
    } else {
      mkdirSync(this.root, { recursive: true, mode: 0o700 });
      // One syncfs instead of an fsync per file: the tree is on disk before its name is.
      const fd = openSync(layer.path, 'r');
      try {
        syncfs(fd, layer.path);
      } finally {
        closeSync(fd);
      }
      // A directory left by a crash between a rename and its meta.json cannot exist (meta.json
      // is inside the renamed directory), but a stale one without meta.json is replaced.
      if (existsSync(dest)) this.discard(dest);
      renameSync(layer.path, dest);
      fsyncDir(this.root);
    }
    this.link(layer.meta.diffId);
  }

  /** Move a directory out of the store's namespace at once, then delete it. */
  private discard(path: string): void {
    const t = tempDir(this.tmpRoot, 'rm');
    try {
      renameSync(path, join(t.path, 'x'));
    } finally {
      t.dispose();
    }
  }

  /** Remove a layer (the caller holds the store's exclusive lock). */
  remove(diffId: string): void {
    const dest = this.dir(diffId);
    try {
      unlinkSync(join(this.root, 'l', LayerStore.shortName(diffId)));
    } catch {
      /* no link */
    }
    if (existsSync(dest)) this.discard(dest);
    rmSync(join(this.root, 'locks', hexOf(diffId)), { force: true });
  }

  list(): string[] {
    try {
      return readdirSync(this.root)
        .filter((h) => /^[a-f0-9]{64}$/.test(h))
        .map((h) => `sha256:${h}`);
    } catch {
      return [];
    }
  }
}
