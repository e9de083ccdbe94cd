// docker pull: an image from a registry into the image store.
//
//   1. the manifest by tag or digest (digest checked); an index or manifest list → the entry
//      for the platform asked for (default: the host's) → its manifest; schema 1, foreign
//      layers and non-image artifacts refused by name;
//   2. the config (verified), checked against the manifest and the platform;
//   3. the layers, several at once (max-concurrent-downloads, 3 as docker): each blob streams
//      from the registry into a temp file AND into the layer's unpacker at the same time,
//      hashed on the way; once the stream ends its digest and size must be the manifest's
//      and the unpacked tar's digest the config's diff id, or everything of it is thrown
//      away. Layers whose blob and unpacked tree the store has are not downloaded;
//   4. blobs and layers move into the store and the index names the image (store.addImage).
// All of it happens in a temp area of the store (locked by us, swept when we die), under the
// store's shared hold and the layers' locks, exactly as `load`: a pull killed at any point
// leaves nothing in the store, and the next one starts over.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError } from '../errors.js';
import type { IngestedBlob } from '../images/blobs.js';
import { decompressor, detectCompression, peek, requireDecompressor, type Compression } from '../images/compression.js';
import { hexOf } from '../images/digest.js';
import type { UnpackedLayer } from '../images/layers.js';
import type { Release } from '../fs/locks.js';
import { isForeignLayer, isIndexType, isManifestType, MEDIA, type Descriptor, type IndexManifest, type Manifest, type Platform } from '../images/manifest.js';
import { familiarName, familiarString, formatReference, parseReference, withDefaultTag, type Reference } from '../images/reference.js';
import type { ImageStore } from '../images/store.js';
import type { ImageConfig } from '../images/types.js';
import { SCHEMA1, type FetchedManifest, type Repository } from './client.js';
import { readBody, RegistryError } from './http.js';
import { formatPlatform, hostPlatform, matches, parsePlatform, pickManifest } from './platform.js';
import type { TransferReporter } from './progress.js';
import { RegistrySession, type SessionOptions } from './session.js';

export interface PullOptions extends SessionOptions {
  /** os/arch[/variant]; default the host's. */
  platform?: string;
  reporter?: TransferReporter;
  /** Warnings docker prints on stderr (a platform that is not the host's). */
  warn?: (line: string) => void;
  /** Layers downloading at once (default: daemon.json's max-concurrent-downloads, 3). */
  concurrency?: number;
  /** Reuse a session (its registries, tokens and connections). */
  session?: RegistrySession;
}

export interface PullResult {
  /** The full reference pulled: docker.io/library/busybox:latest, or name@sha256:…. */
  ref: string;
  /** The image id (its config's digest). */
  id: string;
  /** The digest the tag or digest names in the registry (the index's, for a multi-platform image). */
  digest: string;
  /** The store had this image under this name already. */
  upToDate: boolean;
}

const quiet: TransferReporter = { layer() {}, line() {} };

/** Where a layer's bytes come from and what must happen to them. */
interface LayerJob {
  desc: Descriptor;
  diffId: string;
  short: string;
  compression: Compression;
  haveBlob: boolean;
  haveLayer: boolean;
}

function layerCompression(desc: Descriptor, what: string): Compression {
  const t = desc.mediaType;
  if (isForeignLayer(t ?? '')) {
    throw new InputError(`${what}: foreign layer (${t}): its content is not in the registry (a Windows base layer); mydocker does not fetch foreign layers`);
  }
  switch (t) {
    case MEDIA.ociLayer:
    case MEDIA.dockerLayer:
      return 'none';
    case MEDIA.ociLayerGzip:
    case MEDIA.dockerLayerGzip:
      return 'gzip';
    case MEDIA.ociLayerZstd:
      requireDecompressor('zstd', what);
      return 'zstd';
    default:
      throw new InputError(`${what}: unsupported layer media type ${JSON.stringify(t)} (not a container image layer)`);
  }
}

function parseJSON<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new InputError(`${what}: not valid JSON`);
  }
}

function checkDescriptor(d: Descriptor | undefined, what: string): Descriptor {
  if (!d || typeof d !== 'object') throw new InputError(`${what}: missing descriptor`);
  if (typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) throw new InputError(`${what}: unsupported or invalid digest ${JSON.stringify(d.digest)}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new InputError(`${what}: invalid size ${JSON.stringify(d.size)}`);
  return d;
}

function checkConfig(config: ImageConfig, layers: number, what: string): void {
  if (!config || typeof config !== 'object' || !config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw new InputError(`${what}: image config has no rootfs.diff_ids`);
  for (const d of config.rootfs.diff_ids) {
    if (typeof d !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d)) throw new InputError(`${what}: image config: invalid diff id ${JSON.stringify(d)}`);
  }
  if (config.rootfs.diff_ids.length !== layers) throw new InputError(`${what}: the config lists ${config.rootfs.diff_ids.length} layers, the manifest ${layers}`);
}

/** docker's wording for a manifest the registry does not have or will not give. */
function pullError(e: unknown, ref: Reference): unknown {
  if (!(e instanceof RegistryError)) return e;
  const fam = familiarString(ref);
  if (e.status === 404 && (e.codes.includes('MANIFEST_UNKNOWN') || e.codes.length === 0)) {
    return new RegistryError(`manifest for ${fam} not found: ${e.message.replace(/^manifest [^:]+: /, '')}`, e.status, e.codes);
  }
  if (e.status === 401 || e.status === 403 || e.codes.includes('NAME_UNKNOWN') || e.codes.includes('DENIED')) {
    return new RegistryError(`pull access denied for ${familiarName(ref)}, repository does not exist or may require 'mydocker login': ${e.message.replace(/^manifest [^:]+: /, '')}`, e.status, e.codes);
  }
  return e;
}

/** A failure worth another try: the connection, or the registry's 5xx/429. */
function transient(e: unknown): boolean {
  if (e instanceof InputError) return false;
  if (e instanceof RegistryError) {
    if (e.status !== undefined) return e.status >= 500 || e.status === 429;
    const code = (e as { code?: string }).code ?? '';
    return ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code) || /closed before the end/.test(e.message);
  }
  return false;
}

/** The digest of a (compressed) layer's uncompressed content, without unpacking it. */
async function contentDigest(input: Readable, what: string): Promise<string> {
  const { head, stream } = await peek(input, 6);
  const dec = decompressor(detectCompression(head), what);
  stream.on('error', (e) => dec.destroy(e));
  stream.pipe(dec);
  const hash = createHash('sha256');
  try {
    for await (const chunk of dec) hash.update(chunk as Buffer);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${what}: corrupt compressed data (${(e as Error).message})`);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Run `fn` over `items`, `limit` at a time; the first failure stops new starts and is thrown once all have settled. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>, onFail: () => void): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | null = null;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        if (!failure) {
          failure = { e };
          onFail();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { e: unknown }).e;
}

interface Downloaded {
  blob: IngestedBlob;
  layer?: UnpackedLayer;
}

/**
 * Stream one blob from the registry into `dir`/blob, verified against its descriptor; at the
 * same time into the layer unpacker ('unpack'), or a hash of its uncompressed content
 * ('verify': the store has the layer, not this blob of it).
 */
async function download(
  repo: Repository,
  store: ImageStore,
  job: LayerJob,
  dir: string,
  mode: 'unpack' | 'verify',
  signal: AbortSignal,
  report: TransferReporter,
): Promise<Downloaded> {
  const { desc } = job;
  const what = `layer ${desc.digest}`;
  const res = await repo.blob(desc.digest);
  const onAbort = () => res.destroy(new InputError('pull aborted'));
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort);
  const declared = Number(res.headers['content-length']);
  const blobPath = join(dir, 'blob');
  let fd = -1;
  const feed = new PassThrough({ highWaterMark: 1 << 20 });
  let feeding = true;
  let consumerError: unknown = null;
  let extracted = 0;
  const consumer: Promise<UnpackedLayer | string> =
    mode === 'unpack'
      ? store.layers.unpack(() => feed, dir, what, job.diffId, (n) => {
          extracted += n;
        })
      : contentDigest(feed, what);
  // The consumer may stop early (a refused tar): the download still runs to its end, so the
  // error names a corrupt blob by its digest rather than by what it did to the unpacker.
  const settled = consumer.then(
    () => undefined,
    (e: unknown) => {
      consumerError = e;
    },
  );
  void settled.then(() => {
    feeding = false;
    res.resume();
  });
  const hash = createHash('sha256');
  let got = 0;
  try {
    if (Number.isFinite(declared) && res.headers['content-length'] !== undefined && declared !== desc.size) {
      throw new InputError(`${what}: the registry sends ${declared} bytes, the manifest says ${desc.size}`);
    }
    fd = openSync(blobPath, 'wx', 0o600);
    report.layer(job.short, 'Downloading', { current: 0, total: desc.size });
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got > desc.size) {
          res.destroy(new InputError(`${what}: the registry sent more than the manifest's ${desc.size} bytes`));
          return;
        }
        hash.update(chunk);
        try {
          for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
        } catch (e) {
          res.destroy(e as Error);
          return;
        }
        report.layer(job.short, 'Downloading', { current: got, total: desc.size });
        if (feeding && !feed.write(chunk)) {
          res.pause();
          feed.once('drain', () => res.resume());
        }
      });
      res.on('end', resolve);
      res.on('error', (e: NodeJS.ErrnoException) =>
        reject(e instanceof InputError ? e : Object.assign(new RegistryError(`${what}: download failed after ${got} of ${desc.size} bytes: ${e.message}`), { code: e.code ?? 'ECONNRESET' })),
      );
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new RegistryError(`${what}: the connection closed before the end (${got} of ${desc.size} bytes)`), { code: 'ECONNRESET' }));
      });
    });
    // On the thread pool: other layers keep streaming meanwhile.
    await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
    report.layer(job.short, 'Verifying Checksum');
    const digest = `sha256:${hash.digest('hex')}`;
    if (got !== desc.size) throw new InputError(`${what}: size mismatch: the manifest says ${desc.size} bytes, the registry sent ${got}`);
    if (digest !== desc.digest) throw new InputError(`${what}: digest mismatch: the registry sent ${digest} (the blob in the registry is corrupt)`);
    report.layer(job.short, 'Download complete');
    feed.end();
    if (mode === 'unpack') report.layer(job.short, 'Extracting', { current: extracted, total: 0 });
    await settled;
    if (consumerError) throw consumerError;
    const result = await consumer;
    if (typeof result === 'string') {
      if (result !== job.diffId) throw new InputError(`${what}: digest mismatch: the config says ${job.diffId}, the layer's content is ${result}`);
      return { blob: { path: blobPath, digest, size: got } };
    }
    return { blob: { path: blobPath, digest, size: got }, layer: result };
  } catch (e) {
    res.destroy();
    feed.destroy(e as Error);
    await settled;
    throw e;
  } finally {
    if (fd >= 0) closeSync(fd);
    signal.removeEventListener('abort', onAbort);
  }
}

/** Pull `name` into the store. */
export async function pullImage(store: ImageStore, name: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = withDefaultTag(parseReference(name));
  const want: Platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const report = opts.reporter ?? quiet;
  const session = opts.session ?? new RegistrySession(store.root.lib, opts);
  try {
    const repo = session.registry(ref.domain).repository(ref.path);
    const at = ref.digest ?? ref.tag!;
    const fam = familiarString(ref);

    // 1. The manifest (through an index when there is one).
    let top: FetchedManifest;
    try {
      top = await repo.manifest(at);
    } catch (e) {
      throw pullError(e, ref);
    }
    let chosen = top;
    if (isIndexType(top.mediaType)) {
      const index = parseJSON<IndexManifest>(top.bytes, `${fam}: index ${top.digest}`);
      if (!Array.isArray(index.manifests)) throw new InputError(`${fam}: index ${top.digest} lists no manifests`);
      const pick = pickManifest(index.manifests, want, opts.platform !== undefined);
      if (!pick) {
        const have = index.manifests.filter((d) => d.platform?.os && d.platform.os !== 'unknown').map((d) => formatPlatform(d.platform!));
        throw new InputError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries${have.length ? ` (it has ${[...new Set(have)].join(', ')})` : ''}`);
      }
      checkDescriptor(pick, `${fam}: index ${top.digest}`);
      chosen = await repo.manifest(pick.digest);
      if (isIndexType(chosen.mediaType)) throw new InputError(`${fam}: index ${top.digest} points at another index (${pick.digest}): nested indexes are not supported`);
    }
    if (SCHEMA1.includes(chosen.mediaType)) {
      throw new InputError(`${fam}: the registry serves a Docker Image Manifest Version 2, Schema 1 (${chosen.mediaType}), which is deprecated and not supported: push the image again with a current client (schema 2 or OCI)`);
    }
    if (!isManifestType(chosen.mediaType)) throw new InputError(`${fam}: unsupported manifest type ${chosen.mediaType} (not a container image)`);
    const manifest = parseJSON<Manifest>(chosen.bytes, `${fam}: manifest ${chosen.digest}`);
    const mwhat = `${fam}: manifest ${chosen.digest}`;
    if (!Array.isArray(manifest.layers)) throw new InputError(`${mwhat}: no layers`);
    const configDesc = checkDescriptor(manifest.config, `${mwhat} config`);
    if (configDesc.mediaType !== MEDIA.ociConfig && configDesc.mediaType !== MEDIA.dockerConfig) {
      throw new InputError(`${mwhat}: config media type ${JSON.stringify(configDesc.mediaType)}: not a container image (an artifact?)`);
    }
    const compressions = manifest.layers.map((l, i) => {
      checkDescriptor(l, `${mwhat} layer ${i}`);
      return layerCompression(l, `${fam}: layer ${l.digest}`);
    });
    report.line(`${at}: Pulling from ${ref.path}`);

    const hold = await store.hold();
    const t = store.tempArea('pull');
    const locks: Release[] = [];
    const abort = new AbortController();
    try {
      // 2. The config.
      let configBlob: IngestedBlob | undefined;
      let config: ImageConfig;
      if (store.blobs.has(configDesc.digest)) {
        config = store.blobs.readJSON<ImageConfig>(configDesc.digest);
      } else {
        const res = await repo.blob(configDesc.digest);
        const bytes = await readBody(res, Math.min(configDesc.size, 64 << 20), `config ${configDesc.digest}`);
        configBlob = store.blobs.ingestBytes(bytes, t.path, 'config');
        if (configBlob.digest !== configDesc.digest) throw new InputError(`${fam}: config ${configDesc.digest}: digest mismatch: the registry sent ${configBlob.digest}`);
        if (configBlob.size !== configDesc.size) throw new InputError(`${fam}: config ${configDesc.digest}: size mismatch: the manifest says ${configDesc.size}, the registry sent ${configBlob.size}`);
        config = parseJSON<ImageConfig>(bytes, `${fam}: config ${configDesc.digest}`);
      }
      checkConfig(config, manifest.layers.length, `${fam}: config ${configDesc.digest}`);
      if (config.os && config.architecture && !matches(want, config)) {
        const actual = formatPlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
        if (opts.platform !== undefined) throw new InputError(`image with reference ${fam} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${actual}`);
        opts.warn?.(`WARNING: The requested image's platform (${actual}) does not match the detected host platform (${formatPlatform(want)}) and no specific platform was requested`);
      }

      const id = configDesc.digest;
      const tags = ref.digest === undefined ? [formatReference(ref)] : [];
      const repoDigest = `${ref.name}@${top.digest}`;
      const existing = store.index.read().images[id];
      const upToDate = existing ? (tags.length ? existing.repoTags.includes(tags[0]!) : existing.repoDigests.includes(repoDigest)) : false;

      // 3. The layers.
      const seen = new Set<string>();
      const jobs: LayerJob[] = [];
      const diffOf = new Map<string, string>();
      manifest.layers.forEach((desc, i) => {
        const diffId = config.rootfs.diff_ids[i]!;
        if (diffOf.has(desc.digest) && diffOf.get(desc.digest) !== diffId) {
          throw new InputError(`${fam}: layer ${desc.digest} appears twice with two diff ids in the config (${diffOf.get(desc.digest)}, ${diffId})`);
        }
        diffOf.set(desc.digest, diffId);
        if (seen.has(desc.digest)) return;
        seen.add(desc.digest);
        jobs.push({ desc, diffId: config.rootfs.diff_ids[i]!, short: hexOf(desc.digest).slice(0, 12), compression: compressions[i]!, haveBlob: false, haveLayer: false });
      });
      const refresh = (j: LayerJob) => {
        j.haveBlob = store.blobs.has(j.desc.digest);
        j.haveLayer = store.layers.has(j.diffId);
      };
      jobs.forEach(refresh);
      const blobs: IngestedBlob[] = [];
      const unpacked: UnpackedLayer[] = [];
      if (existing) {
        // The same image (by its config) is here already: only the names are new.
        for (const j of jobs) report.layer(j.short, 'Already exists');
      } else {
        for (const d of [...new Set(jobs.filter((j) => !(j.haveBlob && j.haveLayer)).map((j) => j.diffId))].sort()) locks.push(await store.layers.lockLayer(d));
        jobs.forEach(refresh);
        const work = jobs.filter((j) => !(j.haveBlob && j.haveLayer));
        for (const j of jobs) report.layer(j.short, work.includes(j) ? 'Pulling fs layer' : 'Already exists');
        const limit = opts.concurrency ?? session.settings.maxConcurrentDownloads;
        work.slice(limit).forEach((j) => report.layer(j.short, 'Waiting'));
        const unpackedBy = new Map<string, UnpackedLayer>();
        await pool(
          work,
          limit,
          async (j) => {
            for (let attempt = 1; ; attempt++) {
              const dir = join(t.path, `${j.short}-${attempt}`);
              mkdirSync(dir, { mode: 0o700 });
              try {
                if (j.haveBlob) {
                  // The blob is here, its unpacked tree is not: unpack it locally.
                  report.layer(j.short, 'Extracting');
                  const layer = await store.layers.unpack(() => createReadStream(store.blobs.path(j.desc.digest), { highWaterMark: 1 << 20 }), dir, `layer ${j.desc.digest}`, j.diffId);
                  unpackedBy.set(j.diffId, layer);
                } else {
                  // A diff id can come under two blob digests (gzip and zstd of one tar): unpack it once.
                  const mode = j.haveLayer || unpackedBy.has(j.diffId) ? 'verify' : 'unpack';
                  const got = await download(repo, store, j, dir, mode, abort.signal, report);
                  blobs.push(got.blob);
                  if (got.layer) unpackedBy.set(j.diffId, got.layer);
                }
                report.layer(j.short, 'Pull complete');
                return;
              } catch (e) {
                rmSync(dir, { recursive: true, force: true });
                if (abort.signal.aborted || attempt >= 3 || !transient(e)) throw e;
                report.layer(j.short, `Retrying in ${attempt} second${attempt > 1 ? 's' : ''}`);
                await sleep(attempt * 1000);
              }
            }
          },
          () => abort.abort(),
        );
        unpacked.push(...unpackedBy.values());
      }

      // 4. Into the store.
      const manifestBlobs: IngestedBlob[] = [];
      if (!existing) {
        if (configBlob) manifestBlobs.push(configBlob);
        if (!store.blobs.has(chosen.digest)) manifestBlobs.push(store.blobs.ingestBytes(chosen.bytes, t.path, 'manifest'));
      }
      await store.addImage({
        configDigest: id,
        manifestDigest: existing?.manifest ?? chosen.digest,
        config,
        blobs: [...manifestBlobs, ...blobs],
        layers: unpacked,
        tags,
        repoDigests: [repoDigest],
      });
      report.line(`Digest: ${top.digest}`);
      report.line(`Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${fam}`);
      return { ref: ref.digest !== undefined ? `${ref.name}@${ref.digest}` : formatReference(ref), id, digest: top.digest, upToDate };
    } finally {
      abort.abort();
      for (const r of locks.reverse()) r();
      t.dispose();
      hold();
    }
  } finally {
    if (!opts.session) session.close();
  }
}
