// docker load: docker-save archives (manifest.json, <config>.json, layer tars; what `docker
// save` and skopeo's docker-archive: write) and OCI image-layout archives (oci-layout,
// index.json, blobs/sha256/…; skopeo's oci-archive:), compressed or not.
//
// Plan, verify, then apply:
//   1. stream the archive once: every file goes to a temp ingest file, hashed on the way
//      (a blobs/sha256/<hex> whose bytes hash otherwise is refused right there);
//   2. read the manifests and configs and check that every blob they name is there, with
//      the right digest and size, in a format we can read;
//   3. take the layer locks (sorted: no deadlock between loads), unpack the layers the store
//      lacks into temp dirs, each checked against its diff id;
//   4. move blobs and layers into place and update the index, under the index lock.
// Anything wrong before step 4 leaves nothing: the temp area is removed.
import { createReadStream, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { openArchive } from './archive-input.js';
import { readHead, type IngestedBlob } from './blobs.js';
import { decompressor, detectCompression, requireDecompressor, type Compression } from './compression.js';
import { entryParts } from './extract.js';
import type { UnpackedLayer } from './layers.js';
import type { Release } from './locks.js';
import {
  hostPlatform, isForeignLayer, isIndexType, isManifestType, layerMediaType, ociManifest,
  type Descriptor, type IndexManifest, type Manifest,
} from './manifest.js';
import { familiarString, formatReference, normalize } from './reference.js';
import type { ImageStore, LoadOptions } from './store.js';
import { readTar } from './tar.js';
import type { ImageConfig } from './types.js';

interface LayerPlan {
  blob: IngestedBlob;
  diffId: string;
  compression: Compression;
  mediaType: string;
}

interface ImagePlan {
  config: ImageConfig;
  configBlob: IngestedBlob;
  manifestBlob: IngestedBlob;
  layers: LayerPlan[];
  tags: string[];
}

/** The files of an archive, by normalized path; symlinks and hardlinks followed. */
class ArchiveFiles {
  files = new Map<string, IngestedBlob>();
  links = new Map<string, string>();
  constructor(readonly what: string) {}

  get(name: string): IngestedBlob | undefined {
    let key = entryParts(name, this.what).join('/');
    for (let hops = 0; hops < 16; hops++) {
      const f = this.files.get(key);
      if (f) return f;
      const next = this.links.get(key);
      if (next === undefined) return undefined;
      key = next;
    }
    return undefined;
  }

  need(name: string, by: string): IngestedBlob {
    const f = this.get(name);
    if (!f) throw new InputError(`${this.what}: ${by} names ${name}, which is not in the archive`);
    return f;
  }

  json<T>(blob: IngestedBlob, name: string): T {
    if (blob.size > 64 << 20) throw new InputError(`${this.what}: ${name}: too large for JSON (${blob.size} bytes)`);
    try {
      return JSON.parse(readFileSync(blob.path, 'utf8')) as T;
    } catch {
      throw new InputError(`${this.what}: ${name}: not valid JSON`);
    }
  }
}

function checkConfig(config: ImageConfig, layers: number, what: string): void {
  if (!config || typeof config !== 'object' || !config.rootfs || !Array.isArray(config.rootfs.diff_ids)) {
    throw new InputError(`${what}: image config has no rootfs.diff_ids`);
  }
  for (const d of config.rootfs.diff_ids) {
    if (typeof d !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d)) throw new InputError(`${what}: image config: invalid diff id ${JSON.stringify(d)}`);
  }
  if (config.rootfs.diff_ids.length !== layers) {
    throw new InputError(`${what}: image config lists ${config.rootfs.diff_ids.length} layers, the manifest ${layers}`);
  }
}

function normalizeTag(t: unknown, what: string): string {
  if (typeof t !== 'string') throw new InputError(`${what}: invalid tag ${JSON.stringify(t)}`);
  try {
    return formatReference(normalize(t));
  } catch (e) {
    throw new InputError(`${what}: tag ${JSON.stringify(t)}: ${(e as Error).message}`);
  }
}

function layerPlan(blob: IngestedBlob, diffId: string, what: string): LayerPlan {
  const compression = detectCompression(readHead(blob.path, 6));
  requireDecompressor(compression, what);
  return { blob, diffId, compression, mediaType: layerMediaType(compression) };
}

/** docker save's manifest.json → plans. */
function dockerPlans(files: ArchiveFiles, tmp: string, store: ImageStore): ImagePlan[] {
  const what = files.what;
  const entries = files.json<unknown>(files.need('manifest.json', 'the archive'), 'manifest.json');
  if (!Array.isArray(entries) || entries.length === 0) throw new InputError(`${what}: manifest.json: expected a non-empty list of images`);
  return entries.map((e: { Config?: unknown; RepoTags?: unknown; Layers?: unknown }, i) => {
    const at = `manifest.json[${i}]`;
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers)) throw new InputError(`${what}: ${at}: needs Config and Layers`);
    const configBlob = files.need(e.Config, at);
    const m = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(e.Config);
    if (m && `sha256:${m[1]}` !== configBlob.digest) throw new InputError(`${what}: ${e.Config}: digest mismatch: expected sha256:${m[1]}, got ${configBlob.digest}`);
    const config = files.json<ImageConfig>(configBlob, e.Config);
    checkConfig(config, e.Layers.length, `${what}: ${e.Config}`);
    const layers = (e.Layers as unknown[]).map((l, j) => {
      if (typeof l !== 'string') throw new InputError(`${what}: ${at}: Layers[${j}] is not a path`);
      return layerPlan(files.need(l, at), config.rootfs.diff_ids[j]!, `${what}: ${l}`);
    });
    const manifest = ociManifest(
      { digest: configBlob.digest, size: configBlob.size },
      layers.map((l) => ({ digest: l.blob.digest, size: l.blob.size, mediaType: l.mediaType })),
    );
    const manifestBlob = store.blobs.ingestBytes(manifest, tmp, `manifest-${i}`);
    const tags = e.RepoTags == null ? [] : Array.isArray(e.RepoTags) ? e.RepoTags.map((t) => normalizeTag(t, `${what}: ${at}`)) : [];
    return { config, configBlob, manifestBlob, layers, tags };
  });
}

/** An OCI image layout's index.json → plans. */
function ociPlans(files: ArchiveFiles): ImagePlan[] {
  const what = files.what;
  const blobOf = (d: Descriptor, by: string): IngestedBlob => {
    if (!d || typeof d.digest !== 'string') throw new InputError(`${what}: ${by}: descriptor without a digest`);
    const m = /^sha256:([a-f0-9]{64})$/.exec(d.digest);
    if (!m) throw new InputError(`${what}: ${by}: unsupported digest ${JSON.stringify(d.digest)}`);
    const b = files.need(`blobs/sha256/${m[1]}`, by);
    if (typeof d.size === 'number' && d.size !== b.size) throw new InputError(`${what}: ${d.digest}: size mismatch: the descriptor says ${d.size}, the blob has ${b.size}`);
    return b;
  };
  const index = files.json<IndexManifest>(files.need('index.json', 'the archive'), 'index.json');
  if (!index || !Array.isArray(index.manifests)) throw new InputError(`${what}: index.json: no manifests`);
  const byId = new Map<string, ImagePlan>();
  const platform = hostPlatform();
  for (const [i, top] of index.manifests.entries()) {
    let desc = top;
    let by = `index.json manifests[${i}]`;
    for (let depth = 0; isIndexType(desc.mediaType); depth++) {
      if (depth > 4) throw new InputError(`${what}: ${by}: image indexes nested too deep`);
      const sub = files.json<IndexManifest>(blobOf(desc, by), desc.digest);
      const pick =
        sub.manifests?.find((d) => d.platform?.os === platform.os && d.platform?.architecture === platform.architecture) ??
        (sub.manifests?.length === 1 ? sub.manifests[0] : undefined);
      if (!pick) throw new InputError(`${what}: ${desc.digest}: no image for ${platform.os}/${platform.architecture}`);
      desc = pick;
      by = desc.digest;
    }
    const manifestBlob = blobOf(desc, by);
    const manifest = files.json<Manifest>(manifestBlob, desc.digest);
    const mt = desc.mediaType ?? manifest.mediaType;
    if (mt !== undefined && !isManifestType(mt)) throw new InputError(`${what}: ${desc.digest}: unsupported manifest type ${mt}`);
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new InputError(`${what}: ${desc.digest}: not an image manifest`);
    const configBlob = blobOf(manifest.config, `${desc.digest} config`);
    const config = files.json<ImageConfig>(configBlob, manifest.config.digest);
    checkConfig(config, manifest.layers.length, `${what}: ${manifest.config.digest}`);
    const layers = manifest.layers.map((l, j) => {
      if (isForeignLayer(l.mediaType ?? '')) throw new InputError(`${what}: layer ${l.digest}: foreign layers (${l.mediaType}) are not supported`);
      const plan = layerPlan(blobOf(l, `${desc.digest} layer ${j}`), config.rootfs.diff_ids[j]!, `${what}: layer ${l.digest}`);
      plan.mediaType = l.mediaType ?? plan.mediaType;
      return plan;
    });
    const ann = { ...(top.annotations ?? {}), ...(desc.annotations ?? {}) };
    const name = ann['io.containerd.image.name'] ?? ann['org.opencontainers.image.ref.name'];
    const tags: string[] = [];
    // A ref.name that is only a tag ("latest") names no repository: the image loads untagged.
    if (name && (name.includes(':') || name.includes('/'))) tags.push(normalizeTag(name, `${what}: index.json`));
    const plan = byId.get(configBlob.digest);
    if (plan) {
      for (const t of tags) if (!plan.tags.includes(t)) plan.tags.push(t);
    } else {
      byId.set(configBlob.digest, { config, configBlob, manifestBlob, layers, tags });
    }
  }
  if (byId.size === 0) throw new InputError(`${what}: index.json lists no images`);
  return [...byId.values()];
}

/** Hash a compressed blob's content (no extraction): for a layer the store already has. */
async function uncompressedDigest(path: string, compression: Compression, what: string): Promise<string> {
  const hash = createHash('sha256');
  const dec = decompressor(compression, what);
  const src = createReadStream(path);
  src.on('error', (e) => dec.destroy(e));
  src.pipe(dec);
  try {
    for await (const chunk of dec) hash.update(chunk as Buffer);
  } catch (e) {
    throw new InputError(`${what}: corrupt ${compression} data (${(e as Error).message})`);
  }
  return `sha256:${hash.digest('hex')}`;
}

export async function loadArchive(store: ImageStore, src: string, opts: LoadOptions): Promise<string[]> {
  const progress = opts.progress?.onLayer?.bind(opts.progress);
  const hold = await store.hold();
  const t = store.tempArea('load');
  const locks: Release[] = [];
  try {
    const archive = await openArchive(src);
    const what = archive.what;
    const files = new ArchiveFiles(what);
    let read = 0;
    archive.onRead((n) => {
      read += n;
      progress?.({ digest: 'archive', phase: 'Loading', done: read, ...(archive.total !== undefined ? { total: archive.total } : {}) });
    });

    // 1. Stream it in.
    let n = 0;
    for await (const { header: h, body } of readTar(archive.tar, what)) {
      const key = entryParts(h.name, what).join('/');
      if (h.type === 'directory') continue;
      if (h.type === 'file' || h.type === 'contiguous-file') {
        const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(key);
        const blob = await store.blobs.ingest(body, t.path, `f${n++}`, m ? `sha256:${m[1]}` : undefined, `${what}: ${key}`);
        files.files.set(key, blob);
      } else if (h.type === 'symlink' || h.type === 'link') {
        const target = h.type === 'link' ? h.linkname ?? '' : posix.join(posix.dirname(key), h.linkname ?? '');
        if ((h.linkname ?? '').startsWith('/') || posix.normalize(target).startsWith('..')) {
          throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: link points outside the archive`);
        }
        files.links.set(key, entryParts(posix.normalize(target), what).join('/'));
      } else {
        throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: unexpected ${h.type} in an image archive`);
      }
    }

    // 2. What images, and is everything there?
    let plans: ImagePlan[];
    if (files.get('manifest.json')) plans = dockerPlans(files, t.path, store);
    else if (files.get('index.json')) plans = ociPlans(files);
    else throw new InputError(`${what}: neither a docker-save archive (no manifest.json) nor an OCI image layout (no index.json)`);

    // 3. Layers: locked in a fixed order, unpacked where missing, each checked against its diff id.
    const diffIds = [...new Set(plans.flatMap((p) => p.layers.map((l) => l.diffId)))].sort();
    for (const d of diffIds) locks.push(await store.layers.lockLayer(d));
    const unpacked = new Map<string, UnpackedLayer>();
    const checked = new Set<string>();
    for (const plan of plans) {
      for (const l of plan.layers) {
        if (unpacked.has(l.diffId) || checked.has(l.blob.digest)) continue;
        const lwhat = `${what}: layer ${l.blob.digest}`;
        if (store.layers.has(l.diffId)) {
          // Present already: the blob must still be what it claims before it enters the store.
          if (!store.blobs.has(l.blob.digest)) {
            const d = l.compression === 'none' ? l.blob.digest : await uncompressedDigest(l.blob.path, l.compression, lwhat);
            if (d !== l.diffId) throw new InputError(`${lwhat}: digest mismatch: the config says ${l.diffId}, the layer's content is ${d}`);
          }
          checked.add(l.blob.digest);
          continue;
        }
        let done = 0;
        const layer = await store.layers.unpack(() => createReadStream(l.blob.path, { highWaterMark: 1 << 20 }), t.path, lwhat, l.diffId, (b) => {
          done += b;
          progress?.({ digest: l.diffId, phase: 'Extracting', done });
        });
        progress?.({ digest: l.diffId, phase: 'Loaded', done });
        unpacked.set(l.diffId, layer);
        checked.add(l.blob.digest);
      }
    }

    // 4. Into the store.
    const lines: string[] = [];
    const installed = new Set<string>();
    for (const plan of plans) {
      const layers = plan.layers.map((l) => l.diffId).filter((d) => unpacked.has(d) && !installed.has(d));
      for (const d of layers) installed.add(d);
      const notes = await store.addImage({
        configDigest: plan.configBlob.digest,
        manifestDigest: plan.manifestBlob.digest,
        config: plan.config,
        blobs: [plan.configBlob, plan.manifestBlob, ...plan.layers.map((l) => l.blob)],
        layers: layers.map((d) => unpacked.get(d)!),
        tags: plan.tags,
      });
      lines.push(...notes);
      if (plan.tags.length === 0) lines.push(`Loaded image ID: ${plan.configBlob.digest}`);
      for (const tag of plan.tags) lines.push(`Loaded image: ${familiarString(tag)}`);
    }
    return lines;
  } finally {
    for (const r of locks.reverse()) r();
    t.dispose();
    hold();
  }
}
