// docker save: the docker-save archive format (what docker, podman and skopeo's
// docker-archive: read):
//   <v1 id>/VERSION, <v1 id>/json, <v1 id>/layer.tar    one directory per layer (v1 id: the chain id's hex)
//   <config hex>.json                                    the image config, byte for byte
//   manifest.json                                        [{Config, RepoTags, Layers}]
//   repositories                                         {repo: {tag: top v1 id}}
// layer.tar is the layer's UNCOMPRESSED tar: the blob as received, decompressed on the fly
// when it is compressed, checked against the diff id while it streams (never a re-tar of the
// unpacked directory, which would not give the same bytes).
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import type { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { readHead } from './blobs.js';
import { decompressor, detectCompression } from './compression.js';
import { hexOf } from './digest.js';
import type { Manifest } from './manifest.js';
import { familiarName, formatReference, parseReference } from './reference.js';
import { chainIds, resolveIn, type ImageStore, type SaveOptions } from './store.js';
import { tarWriter, writeEntry } from './tar.js';

export interface ArchiveLayer {
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** The uncompressed tar's bytes. */
  data(): AsyncIterable<Buffer>;
}

export interface ArchiveImage {
  configBytes: Buffer;
  configDigest: string;
  /** Familiar or full references ("busybox:latest"). */
  tags: string[];
  layers: ArchiveLayer[];
}

/** Check a stream against a digest while it passes. */
async function* verified(data: AsyncIterable<Buffer>, digest: string, what: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of data) {
    hash.update(chunk);
    yield chunk;
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== digest) throw new InputError(`${what}: digest mismatch: expected ${digest}, got ${got} (the store is damaged)`);
}

/** Write images as a docker-save archive to `out`; `mtime` dates every entry (reproducible archives). */
export async function writeDockerArchive(images: ArchiveImage[], out: Writable, mtime: Date, onBytes?: (n: number) => void): Promise<void> {
  const pack = tarWriter();
  const done = new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.on('finish', resolve);
    pack.on('error', reject);
  });
  pack.on('data', (c: Buffer) => onBytes?.(c.length));
  pack.pipe(out);
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const dirMode = { mode: 0o755, uid: 0, gid: 0, mtime, size: 0 };
  const fileMode = { mode: 0o644, uid: 0, gid: 0, mtime };
  try {
    for (const img of images) {
      const chains = chainIds(img.layers.map((l) => l.diffId));
      const layerPaths: string[] = [];
      for (const [i, layer] of img.layers.entries()) {
        const v1 = hexOf(chains[i]!);
        layerPaths.push(`${v1}/layer.tar`);
        if (written.has(v1)) continue;
        written.add(v1);
        const json: Record<string, unknown> = { id: v1, created: mtime.toISOString(), container_config: { Cmd: null }, os: 'linux' };
        if (i > 0) json.parent = hexOf(chains[i - 1]!);
        await writeEntry(pack, { name: `${v1}/`, type: 'directory', ...dirMode });
        await writeEntry(pack, { name: `${v1}/VERSION`, type: 'file', ...fileMode, size: 3 }, Buffer.from('1.0'));
        const jb = Buffer.from(JSON.stringify(json));
        await writeEntry(pack, { name: `${v1}/json`, type: 'file', ...fileMode, size: jb.length }, jb);
        await writeEntry(pack, { name: `${v1}/layer.tar`, type: 'file', ...fileMode, size: layer.size }, verified(layer.data(), layer.diffId, `layer ${layer.diffId}`));
      }
      const configName = `${hexOf(img.configDigest)}.json`;
      if (!written.has(configName)) {
        written.add(configName);
        await writeEntry(pack, { name: configName, type: 'file', ...fileMode, size: img.configBytes.length }, img.configBytes);
      }
      // Full names (docker.io/library/busybox:latest), as skopeo writes them: docker reads
      // both, and podman would file a familiar "busybox:latest" under localhost/.
      const tags = img.tags.map((t) => formatReference(parseReference(t)));
      manifest.push({ Config: configName, RepoTags: tags.length ? tags : null, Layers: layerPaths });
      const top = layerPaths.length ? layerPaths[layerPaths.length - 1]!.split('/')[0]! : '';
      for (const t of img.tags) {
        const ref = parseReference(t);
        if (ref.tag === undefined) continue;
        (repositories[familiarName(ref)] ??= {})[ref.tag] = top;
      }
    }
    const mb = Buffer.from(JSON.stringify(manifest));
    await writeEntry(pack, { name: 'manifest.json', type: 'file', ...fileMode, size: mb.length }, mb);
    const rb = Buffer.from(JSON.stringify(repositories));
    await writeEntry(pack, { name: 'repositories', type: 'file', ...fileMode, size: rb.length }, rb);
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    throw e;
  }
  await done;
}

export async function saveArchive(store: ImageStore, refs: string[], out: string, opts: SaveOptions): Promise<void> {
  if (refs.length === 0) throw new InputError('save: at least one image is needed');
  const progress = opts.progress?.onLayer?.bind(opts.progress);
  const hold = await store.hold();
  try {
    // Which images, with which names: a name saves that tag; an id saves the image untagged.
    const idx = store.index.read();
    const byId = new Map<string, ArchiveImage>();
    for (const ref of refs) {
      const { record, byId: isId, full } = resolveIn(idx, ref);
      let img = byId.get(record.id);
      if (!img) {
        const manifest = store.blobs.readJSON<Manifest>(record.manifest);
        const configBytes = store.blobs.read(record.id);
        const config = JSON.parse(configBytes.toString('utf8')) as { rootfs: { diff_ids: string[] } };
        const layers = config.rootfs.diff_ids.map((diffId, i): ArchiveLayer => {
          const blob = manifest.layers[i]!.digest;
          const path = store.blobs.path(blob);
          const compression = detectCompression(readHead(path, 6));
          const size = compression === 'none' ? store.blobs.size(blob) : store.layers.meta(diffId).tarSize;
          return {
            diffId,
            size,
            data: () => {
              const src = createReadStream(path, { highWaterMark: 1 << 20 });
              if (compression === 'none') return src;
              const dec = decompressor(compression, `layer ${blob}`);
              src.on('error', (e) => dec.destroy(e));
              return src.pipe(dec);
            },
          };
        });
        img = { configBytes, configDigest: record.id, tags: [], layers };
        byId.set(record.id, img);
      }
      if (!isId && full && !full.includes('@')) {
        if (!img.tags.includes(full)) img.tags.push(full);
      }
    }
    const images = [...byId.values()];
    const total = images.reduce((s, i) => s + i.layers.reduce((a, l) => a + l.size, 0), 0);
    let done = 0;
    const onBytes = (n: number) => {
      done += n;
      progress?.({ digest: 'archive', phase: 'Saving', done, total });
    };
    if (out === '-') {
      await writeDockerArchive(images, process.stdout, new Date(0), onBytes);
      return;
    }
    // A temp file next to the target, renamed over it once complete: never a half archive.
    const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
    try {
      const ws = createWriteStream(tmp, { mode: 0o644 });
      await writeDockerArchive(images, ws, new Date(0), onBytes);
      const fd = openSync(tmp, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, out);
    } catch (e) {
      rmSync(tmp, { force: true });
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EACCES') {
        throw new InputError(`save: ${out}: ${(e as Error).message}`);
      }
      throw e;
    }
  } finally {
    hold();
  }
}
