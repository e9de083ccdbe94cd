// docker push: an image of the store (pulled, loaded, imported, committed, the embedded
// busybox) to a registry, exactly as stored — the same manifest bytes, so the same digest:
//   - each layer (several at once, max-concurrent-uploads, 5 as docker), then the config:
//     HEAD first (the registry has it: "Layer already exists"); else a cross-repository mount
//     from a repository of the same registry that we know has the blob (one our images were
//     pulled from or pushed to: their repo digests), "Mounted from …"; else an upload, in one
//     PUT or, above the chunk size, in PATCHed chunks; the bytes are read from the store and
//     checked against their digest as they go;
//   - the manifest, PUT by tag; its digest is recorded as a repo digest of the image.
// Our store keeps every blob an image's manifest names (load, import, commit and pull all
// store the blob with the unpacked layer), so there is never a layer to re-pack.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { InputError, NotFoundError } from '../errors.js';
import { hexOf } from '../images/digest.js';
import { MEDIA, type Descriptor, type Manifest } from '../images/manifest.js';
import { familiarName, parseReference } from '../images/reference.js';
import type { ImageStore } from '../images/store.js';
import type { Image } from '../images/types.js';
import type { Repository } from './client.js';
import type { TransferReporter } from './progress.js';
import { RegistrySession, type SessionOptions } from './session.js';

export interface PushOptions extends SessionOptions {
  reporter?: TransferReporter;
  /** Push every tag of the repository (no tag given). */
  allTags?: boolean;
  /** Blobs larger than this go up in chunks of this size (default 64 MiB). */
  chunkSize?: number;
  /** Uploads at once (default: daemon.json's max-concurrent-uploads, 5). */
  concurrency?: number;
  session?: RegistrySession;
}

export interface PushResult {
  tag: string;
  digest: string;
  size: number;
}

const quiet: TransferReporter = { layer() {}, line() {} };
const DEFAULT_CHUNK = 64 << 20;

/** Repositories of `domain` (other than `self`) that hold a blob, from our images' repo digests. */
function mountSources(store: ImageStore, domain: string, self: string): Map<string, Set<string>> {
  const byRepo = new Map<string, Set<string>>();
  for (const rec of Object.values(store.index.read().images)) {
    const repos = rec.repoDigests
      .map((rd) => {
        try {
          return parseReference(rd);
        } catch {
          return null;
        }
      })
      .filter((r) => r && r.domain === domain && r.path !== self)
      .map((r) => r!.path);
    if (!repos.length) continue;
    let blobs: string[];
    try {
      const m = store.blobs.readJSON<Manifest>(rec.manifest);
      blobs = [m.config.digest, ...m.layers.map((l) => l.digest)];
    } catch {
      continue;
    }
    for (const repo of repos) {
      const set = byRepo.get(repo) ?? new Set<string>();
      for (const b of blobs) set.add(b);
      byRepo.set(repo, set);
    }
  }
  return byRepo;
}

/**
 * Bytes start..end-1 of a blob of the store, hashed on the way: the hash state at each chunk
 * boundary is kept, so a chunk sent twice (a retry) hashes right, and the last byte of the
 * blob checks the whole digest — a damaged store never reaches the registry as a good blob.
 */
function verifiedReader(path: string, digest: string, size: number, onBytes: (n: number) => void) {
  const states = new Map<number, Hash>([[0, createHash('sha256')]]);
  return (start: number, end: number) => {
    const base = states.get(start);
    if (!base) throw new InputError(`push ${digest}: chunk at ${start} requested out of order`);
    const h = base.copy();
    const t = new Transform({
      transform(chunk: Buffer, _e, cb) {
        h.update(chunk);
        onBytes(chunk.length);
        cb(null, chunk);
      },
      flush(cb) {
        states.set(end, h.copy());
        if (end === size) {
          const got = `sha256:${h.digest('hex')}`;
          if (got !== digest) return cb(new InputError(`push: the store's blob ${digest} is damaged (its bytes hash to ${got}); pull or load the image again`));
        }
        cb();
      },
    });
    const src = createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 });
    src.on('error', (e) => t.destroy(e));
    return src.pipe(t);
  };
}

async function pushBlob(
  store: ImageStore,
  repo: Repository,
  desc: Descriptor,
  sources: Map<string, Set<string>>,
  chunkSize: number,
  report: TransferReporter,
  show: boolean,
): Promise<void> {
  const id = hexOf(desc.digest).slice(0, 12);
  const say = (status: string, progress?: { current: number; total: number }) => show && report.layer(id, status, progress);
  if (await repo.hasBlob(desc.digest)) {
    say('Layer already exists');
    return;
  }
  let location: string | undefined;
  for (const [from, blobs] of sources) {
    if (!blobs.has(desc.digest)) continue;
    const r = await repo.mount(desc.digest, from);
    if (r === 'mounted') {
      say(`Mounted from ${from}`);
      return;
    }
    location = r.location; // refused: the registry opened an upload instead
    break;
  }
  location ??= await repo.startUpload();
  let sent = 0;
  say('Pushing', { current: 0, total: desc.size });
  const open = verifiedReader(store.blobs.path(desc.digest), desc.digest, desc.size, (n) => {
    sent += n;
    say('Pushing', { current: Math.min(sent, desc.size), total: desc.size });
  });
  await repo.upload(location, desc.digest, desc.size, open, chunkSize);
  say('Pushed');
}

function imageFor(store: ImageStore, name: string, tag: string): Image {
  try {
    return store.get(`${name}:${tag}`);
  } catch (e) {
    if (e instanceof NotFoundError) throw new InputError(`An image does not exist locally with the tag: ${familiarName(parseReference(name))}${tag === 'latest' ? '' : `:${tag}`}`);
    throw e;
  }
}

export async function pushImage(store: ImageStore, name: string, opts: PushOptions = {}): Promise<PushResult[]> {
  const ref = parseReference(name);
  if (ref.digest !== undefined) throw new InputError(`push ${name}: cannot push a digest reference`);
  const report = opts.reporter ?? quiet;
  let tags: string[];
  if (ref.tag !== undefined) tags = [ref.tag];
  else if (opts.allTags) {
    tags = store
      .list()
      .flatMap((i) => i.repoTags)
      .map((t) => parseReference(t))
      .filter((r) => r.name === ref.name && r.tag !== undefined)
      .map((r) => r.tag!)
      .sort();
    if (!tags.length) throw new InputError(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  } else tags = ['latest'];
  // Held from here: no rmi or prune removes a blob we are about to send.
  const hold = await store.hold();
  let session: RegistrySession | undefined;
  try {
    // Every image there before we talk to the registry.
    const images = tags.map((t) => ({ tag: t, image: imageFor(store, ref.name, t) }));
    session = opts.session ?? new RegistrySession(store.root.lib, opts);
    report.line(`The push refers to repository [${familiarName(ref)}]`);
    const repo = session.registry(ref.domain).repository(ref.path);
    const sources = mountSources(store, ref.domain, ref.path);
    // One token for all of it: push here, pull from the mount sources (a few).
    repo.scopes = [`repository:${ref.path}:pull,push`, ...[...sources.keys()].slice(0, 5).map((p) => `repository:${p}:pull`)];
    for (const s of [...sources.keys()].slice(5)) sources.delete(s);
    const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
    const limit = opts.concurrency ?? session.settings.maxConcurrentUploads;
    const results: PushResult[] = [];
    for (const { tag, image } of images) {
      const bytes = store.blobs.read(image.manifestDigest);
      const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
      const mediaType = manifest.mediaType ?? (manifest.config?.mediaType === MEDIA.dockerConfig ? MEDIA.dockerManifest : MEDIA.ociManifest);
      const all = [manifest.config, ...manifest.layers];
      for (const d of all) {
        if (!store.blobs.has(d.digest)) throw new InputError(`image ${image.id}: blob ${d.digest} is missing from the store (pull or load the image again)`);
      }
      // Top-most layer first, as docker lists them.
      const layers = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()].reverse();
      for (const l of layers) report.layer(hexOf(l.digest).slice(0, 12), 'Preparing');
      layers.slice(limit).forEach((l) => report.layer(hexOf(l.digest).slice(0, 12), 'Waiting'));
      let next = 0;
      let failed: { e: unknown } | null = null;
      await Promise.all(
        Array.from({ length: Math.max(1, Math.min(limit, layers.length)) }, async () => {
          while (!failed && next < layers.length) {
            const l = layers[next++]!;
            try {
              await pushBlob(store, repo, l, sources, chunkSize, report, true);
            } catch (e) {
              failed ??= { e };
            }
          }
        }),
      );
      if (failed) throw (failed as { e: unknown }).e;
      await pushBlob(store, repo, manifest.config, sources, chunkSize, report, false);
      const digest = await repo.putManifest(tag, bytes, mediaType);
      await store.addImage({
        configDigest: image.id,
        manifestDigest: image.manifestDigest,
        config: image.config,
        blobs: [],
        layers: [],
        tags: [],
        repoDigests: [`${ref.name}@${digest}`],
      });
      report.line(`${tag}: digest: ${digest} size: ${bytes.length}`);
      results.push({ tag, digest, size: bytes.length });
    }
    return results;
  } finally {
    hold();
    if (!opts.session) session?.close();
  }
}
