// Image archives built offline for the tests: layer tars (with whiteouts, opaque dirs, any
// hostile entry we like), docker-save archives and OCI image layouts, plus a data root per
// test and a snapshot of it (to prove that a refused load left nothing behind).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
// Our tar.ts makes tar-stream write PAX xattr values as bytes (SCHILY.xattr.* as latin1 strings).
import '../../src/mydocker/images/tar.js';
import { DataRoot } from '../../src/mydocker/paths.js';
import { ImageStore } from '../../src/mydocker/images/store.js';

export interface TEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  data?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const hex = (d: string) => d.replace(/^sha256:/, '');

/** A tar of `entries` (tar-stream's writer), with the end-of-archive blocks. */
export async function tarOf(entries: TEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => pack.on('end', r));
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'directory' : 'file');
    const data = e.data === undefined ? undefined : Buffer.from(e.data);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_600_000_000_000),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      ...(e.pax ? { pax: e.pax } : {}),
    } as tarStream.Headers;
    await new Promise<void>((resolve, reject) => {
      if (type === 'file') pack.entry(header, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export interface TestImage {
  layers: Buffer[]; // as stored in the archive (tar or gzip)
  diffIds: string[]; // of the uncompressed tars
  config: Buffer;
  tags: string[];
}

/** An image from uncompressed layer tars; `gzip` compresses the layers as stored. */
export function image(layerTars: Buffer[], opts: { tags?: string[]; gzip?: boolean; cmd?: string[]; env?: string[] } = {}): TestImage {
  const diffIds = layerTars.map(sha);
  const config = Buffer.from(
    JSON.stringify({
      // Go's field order (containers/image re-marshals configs when it converts a docker
      // image to OCI; in this order the bytes, and so the image id, survive it).
      created: '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: opts.env ?? ['PATH=/bin'], Cmd: opts.cmd ?? ['sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layerTars.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }),
  );
  return { layers: opts.gzip ? layerTars.map((l) => gzipSync(l)) : layerTars, diffIds, config, tags: opts.tags ?? [] };
}

/** A docker-save archive (docker's classic layout) of several images. */
export async function dockerArchive(images: TestImage[]): Promise<Buffer> {
  const entries: TEntry[] = [];
  const manifest = [];
  const seen = new Set<string>();
  for (const img of images) {
    const paths: string[] = [];
    for (const l of img.layers) {
      const id = hex(sha(l));
      paths.push(`${id}/layer.tar`);
      if (seen.has(id)) continue;
      seen.add(id);
      entries.push({ name: `${id}/`, type: 'directory' }, { name: `${id}/VERSION`, data: '1.0' }, { name: `${id}/layer.tar`, data: l });
    }
    const cfg = `${hex(sha(img.config))}.json`;
    if (!seen.has(cfg)) entries.push({ name: cfg, data: img.config });
    seen.add(cfg);
    manifest.push({ Config: cfg, RepoTags: img.tags.length ? img.tags : null, Layers: paths });
  }
  entries.push({ name: 'manifest.json', data: JSON.stringify(manifest) });
  return tarOf(entries);
}

/** An OCI image layout archive; `names` go in org.opencontainers.image.ref.name. */
export async function ociArchive(images: TestImage[]): Promise<Buffer> {
  const blobs = new Map<string, Buffer>();
  const add = (b: Buffer) => {
    blobs.set(hex(sha(b)), b);
    return { digest: sha(b), size: b.length };
  };
  const manifests = [];
  for (const img of images) {
    const config = add(img.config);
    const layers = img.layers.map((l) => ({
      mediaType: l[0] === 0x1f ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
      ...add(l),
    }));
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers }));
    const md = add(m);
    const names = img.tags.length ? img.tags : [undefined];
    for (const n of names) {
      manifests.push({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...md,
        ...(n ? { annotations: { 'org.opencontainers.image.ref.name': n } } : {}),
      });
    }
  }
  const entries: TEntry[] = [
    { name: 'oci-layout', data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests }) },
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
  ];
  for (const [h, b] of blobs) entries.push({ name: `blobs/sha256/${h}`, data: b });
  return tarOf(entries);
}

/** A private data root for one test (under /tmp, prefixed with the pid), and its store. */
export function testStore(tag: string): { root: DataRoot; store: ImageStore; dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `mydocker-img-${tag}-${process.pid}-`));
  const root = new DataRoot(join(dir, 'root'));
  return {
    root,
    dir,
    store: new ImageStore(root),
    cleanup() {
      for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .reverse();
}

/**
 * Everything in a data root that matters for "nothing left behind": every path under
 * images/, layers/ and tmp/ (lock files aside) and the index's content.
 */
export function snapshot(root: DataRoot): string {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const rel = relative(root.lib, p);
      if (/(^|\/)(locks|[^/]*\.lock)$/.test(rel) || /^layers\/locks\//.test(rel)) continue;
      const st = lstatSync(p);
      out.push(`${rel}${st.isDirectory() ? '/' : ''}`);
      if (st.isDirectory() && !st.isSymbolicLink()) walk(p);
    }
  };
  walk(root.images);
  walk(root.layers);
  walk(root.tmp);
  const idx = join(root.images, 'index.json');
  if (existsSync(idx)) out.push(readFileSync(idx, 'utf8'));
  return out.join('\n');
}

/** The size of a file (or -1). */
export function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return -1;
  }
}
