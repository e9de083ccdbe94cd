// The image store: one façade over the content store (blobs), the layer store and the index
// of names. What the CLI verbs and the container side call.
//
//   DataRoot.images/
//     blobs/sha256/<hex>   manifests, configs and layer blobs, exactly as received
//     index.json           the images: id (config digest) → manifest, tags, digests, size
//     index.lock           flock: writers of index.json
//     gc.lock              flock: shared by whoever adds to the store (load, import, commit,
//                          a container being created); exclusive for removals (rmi, prune)
//   DataRoot.layers/       see layers.ts
//   DataRoot.tmp/          temp areas (ingest files, layers being unpacked), swept when dead
//
// The query side (resolve, get, list, layerDirs) reads index.json and small blobs only and
// never loads the tar code: it is on every `run`'s path.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InputError, NotFoundError } from '../errors.js';
import type { DataRoot } from '../paths.js';
import { BlobStore, type IngestedBlob } from './blobs.js';
import { ImageIndex, type ImageRecord, type IndexFile } from './image-index.js';
import { LayerStore, type UnpackedLayer } from './layers.js';
import { lock, sweepTemp, tempDir, type Release } from './locks.js';
import type { Manifest } from './manifest.js';
import { emitImage } from '../events/journal.js';
import { familiarString, formatReference, isFullId, normalize, parseReference } from './reference.js';
import type { ConfigChange, Image, ImageConfig, ImageRunConfig, Progress } from './types.js';

/** Who uses an image: a container id (a stopped container), or the container and whether it runs. */
export type InUse = (imageId: string) => string | { id: string; running: boolean } | null;

export interface RemoveOptions {
  force?: boolean;
  noPrune?: boolean;
  inUse?: InUse;
}

export interface HistoryRow {
  /** The image id on the top row (and on rows of images we have), else "<missing>". */
  id: string;
  created: string;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
  emptyLayer: boolean;
}

/** A new image, ready to enter the store: blobs and unpacked layers in temp areas. */
export interface NewImage {
  configDigest: string;
  manifestDigest: string;
  config: ImageConfig;
  blobs: IngestedBlob[];
  /** Layers to install; the caller holds their layer locks. */
  layers: UnpackedLayer[];
  /** Normalized full references to point at it. */
  tags: string[];
  /** name@sha256:… of the manifest in the registry it came from (pull). */
  repoDigests?: string[];
  parent?: string;
}

export interface LoadOptions {
  progress?: Progress;
}
export interface ImportOptions {
  ref?: string;
  changes?: ConfigChange[];
  message?: string;
  progress?: Progress;
  /** Platform of the new image (default: the host's). */
  platform?: { os?: string; architecture?: string; variant?: string };
}
export interface CommitOptions {
  /** The container's overlay upper dir. */
  upperDir: string;
  /** The image the container was created from. */
  parent: Image;
  /**
   * The container's own run config (docker commit makes the image from it, not from the
   * parent's: the container's Cmd, Env, WorkingDir…); default the parent's. `changes` apply on top.
   */
  config?: ImageRunConfig;
  changes?: ConfigChange[];
  ref?: string;
  author?: string;
  message?: string;
  /** The container's command, for the history entry (docker shows it in `history`). */
  createdBy?: string;
  /** Container paths whose contents stay out of the layer (volume mountpoints). */
  exclude?: string[];
  /** Called around the tree walk (the caller pauses and resumes the container). */
  pause?: { pause(): void | Promise<void>; resume(): void | Promise<void> };
  progress?: Progress;
}
/** An image that differs from its parent by its config only (a Dockerfile's ENV, CMD, …). */
export interface ConfigCommitOptions {
  /** Null: FROM scratch (no layers). */
  parent: Image | null;
  config: ImageRunConfig;
  /** The history entry's created_by; null for none (the empty base image of a scratch build). */
  createdBy: string | null;
}
export interface SaveOptions {
  progress?: Progress;
}

export class ImageStore {
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly index: ImageIndex;

  constructor(readonly root: DataRoot) {
    this.blobs = new BlobStore(root.images);
    this.layers = new LayerStore(root.layers, root.tmp);
    this.index = new ImageIndex(root.images);
  }

  // ---------------------------------------------------------------- locks and temp areas

  /**
   * A shared hold on the store: nothing is removed (rmi, prune) until it is released. Loads
   * hold it while they work; the container side holds it from resolving an image until its
   * container's record names the image.
   */
  async hold(): Promise<Release> {
    mkdirSync(this.root.images, { recursive: true, mode: 0o700 });
    return lock(join(this.root.images, 'gc.lock'), 'shared');
  }

  /** Exclusive: for removals. */
  async exclusive(): Promise<Release> {
    mkdirSync(this.root.images, { recursive: true, mode: 0o700 });
    return lock(join(this.root.images, 'gc.lock'), 'exclusive');
  }

  /** A temp area for one operation (swept if we die); old dead ones are removed first. */
  tempArea(kind: string) {
    sweepTemp(this.root.tmp);
    return tempDir(this.root.tmp, kind);
  }

  // ---------------------------------------------------------------- queries

  private records(): IndexFile {
    return this.index.read();
  }

  /** The record an image reference names (docker's lookup order), or NotFoundError. */
  resolve(ref: string): ImageRecord {
    return resolveIn(this.records(), ref).record;
  }

  /** The image a reference names. */
  get(ref: string): Image {
    return this.toImage(this.resolve(ref));
  }

  list(): Image[] {
    return Object.values(this.records().images)
      .map((r) => this.toImage(r))
      .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  private toImage(r: ImageRecord): Image {
    let config: ImageConfig;
    try {
      config = this.blobs.readJSON<ImageConfig>(r.id);
    } catch {
      throw new InputError(`image ${r.id}: its config blob is missing from the store`);
    }
    return {
      id: r.id,
      repoTags: [...r.repoTags],
      repoDigests: [...r.repoDigests],
      manifestDigest: r.manifest,
      created: r.created,
      size: r.size,
      config,
    };
  }

  manifest(image: Pick<Image, 'manifestDigest'>): Manifest {
    return this.blobs.readJSON<Manifest>(image.manifestDigest);
  }

  /**
   * The unpacked layer directories of an image, bottom-most first (reverse them for an
   * overlay lowerdir, which lists the top-most first). A layer missing from the layer store
   * is unpacked from its blob. A diff id repeated in one image appears once, at its top-most
   * place (the lower copy is hidden by the upper one entirely).
   */
  async layerDirs(image: Image): Promise<string[]> {
    const ids = dedupeTopMost(image.config.rootfs.diff_ids);
    for (const d of ids) if (!this.layers.has(d)) await this.restoreLayer(image, d);
    return ids.map((d) => this.layers.diffDir(d));
  }

  /**
   * The overlay lowerdir option for an image (top-most first) through the short links; when
   * even that is longer than a mount option can be, relative names and the directory the
   * mount must be made from (`cwd`).
   */
  async lowerdir(image: Image): Promise<{ lowerdir: string; cwd?: string }> {
    await this.layerDirs(image);
    const ids = dedupeTopMost(image.config.rootfs.diff_ids).reverse();
    const links = ids.map((d) => this.layers.link(d));
    const abs = links.join(':');
    if (abs.length < 3800) return { lowerdir: abs };
    return { lowerdir: ids.map((d) => `l/${LayerStore.shortName(d)}`).join(':'), cwd: this.root.layers };
  }

  private async restoreLayer(image: Image, diffId: string): Promise<void> {
    const manifest = this.manifest(image);
    const i = image.config.rootfs.diff_ids.indexOf(diffId);
    const desc = manifest.layers[i];
    if (!desc || !this.blobs.has(desc.digest)) throw new InputError(`image ${image.id}: layer ${diffId} is missing and so is its blob`);
    const release = await this.layers.lockLayer(diffId);
    const t = this.tempArea('layer');
    try {
      if (this.layers.has(diffId)) return;
      const { createReadStream } = await import('node:fs');
      const layer = await this.layers.unpack(() => createReadStream(this.blobs.path(desc.digest)), t.path, `layer ${desc.digest}`, diffId);
      this.layers.install(layer);
    } finally {
      t.dispose();
      release();
    }
  }

  history(ref: string): HistoryRow[] {
    const img = this.get(ref);
    const diffIds = img.config.rootfs.diff_ids;
    const entries = img.config.history ?? [];
    const rows: HistoryRow[] = [];
    let layer = 0;
    const sizeOf = (d: string | undefined) => {
      if (!d) return 0;
      try {
        return this.layers.meta(d).size;
      } catch {
        return 0;
      }
    };
    if (entries.length === 0) {
      for (const d of diffIds) rows.push({ id: '<missing>', created: img.created, createdBy: '', size: sizeOf(d), comment: '', tags: [], emptyLayer: false });
    } else {
      for (const h of entries) {
        const empty = h.empty_layer === true;
        const d = empty ? undefined : diffIds[layer++];
        rows.push({ id: '<missing>', created: h.created ?? '', createdBy: h.created_by ?? '', size: sizeOf(d), comment: h.comment ?? '', tags: [], emptyLayer: empty });
      }
    }
    // docker shows the id of each row's image where the store has it: a built (or committed)
    // image's parent chain, whose images each end at one row of this history.
    const idx = this.records();
    const seen = new Set<string>();
    for (let p = idx.images[img.id]?.parent; p && !seen.has(p); p = idx.images[p]?.parent) {
      seen.add(p);
      const r = idx.images[p];
      if (!r) break;
      let n = 0;
      try {
        n = this.blobs.readJSON<ImageConfig>(r.id).history?.length ?? 0;
      } catch {
        break;
      }
      const row = rows[n - 1];
      if (n > 0 && n < rows.length && row) {
        row.id = r.id;
        row.tags = r.repoTags.map(familiarString);
      }
    }
    rows.reverse();
    if (rows[0]) {
      rows[0].id = img.id;
      rows[0].tags = img.repoTags.map(familiarString);
    }
    return rows;
  }

  /** docker image inspect's object. */
  inspect(ref: string): Record<string, unknown> {
    const img = this.get(ref);
    const rec = this.resolve(img.id);
    const c = img.config.config ?? {};
    const ids = dedupeTopMost(img.config.rootfs.diff_ids);
    const dirs = ids.map((d) => this.layers.diffDir(d)).reverse();
    return {
      Id: img.id,
      RepoTags: img.repoTags.map(familiarString),
      RepoDigests: img.repoDigests.map(familiarString),
      Parent: rec.parent ?? '',
      Comment: img.config.history?.[img.config.history.length - 1]?.comment ?? '',
      Created: img.config.created ?? img.created,
      DockerVersion: '',
      Author: img.config.author ?? '',
      Config: {
        Hostname: '',
        Domainname: '',
        User: c.User ?? '',
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        ExposedPorts: c.ExposedPorts,
        Tty: false,
        OpenStdin: false,
        StdinOnce: false,
        Env: c.Env ?? null,
        Cmd: c.Cmd ?? null,
        Image: '',
        Volumes: c.Volumes ?? null,
        WorkingDir: c.WorkingDir ?? '',
        Entrypoint: c.Entrypoint ?? null,
        OnBuild: null,
        Labels: c.Labels ?? null,
        StopSignal: c.StopSignal,
        ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
        ...(c.Shell ? { Shell: c.Shell } : {}),
      },
      Architecture: img.config.architecture,
      Variant: img.config.variant,
      Os: img.config.os,
      Size: img.size,
      GraphDriver: {
        Data: dirs.length > 1 ? { LowerDir: dirs.slice(1).join(':'), UpperDir: dirs[0] } : { UpperDir: dirs[0] ?? '' },
        Name: 'overlay2',
      },
      RootFS: { Type: 'layers', Layers: [...img.config.rootfs.diff_ids] },
      Metadata: { LastTagTime: rec.lastTagTime ?? '0001-01-01T00:00:00Z' },
    };
  }

  // ---------------------------------------------------------------- names

  /** docker tag SOURCE TARGET. */
  async tag(src: string, target: string): Promise<void> {
    const ref = normalize(target);
    if (ref.digest !== undefined) throw new InputError(`refusing to create a tag with a digest reference: ${target}`);
    const full = formatReference(ref);
    let id = '';
    await this.index.update((idx) => {
      const { record } = resolveIn(idx, src);
      id = record.id;
      moveTag(idx, full, record.id, new Date().toISOString());
    });
    emitImage({ paths: this.root }, 'tag', id, familiarString(full));
  }

  // ---------------------------------------------------------------- adding images

  /**
   * Put a new image in the store: blobs into the content store, layers into the layer store,
   * then the index (last: a crash before it leaves only unreferenced whole blobs and layers).
   * Returns docker's lines about tags moved away from other images.
   */
  async addImage(img: NewImage): Promise<string[]> {
    const notes: string[] = [];
    await this.index.update((idx) => {
      for (const b of img.blobs) this.blobs.commit(b);
      this.blobs.syncDir();
      for (const l of img.layers) this.layers.install(l);
      const now = new Date().toISOString();
      let size = 0;
      for (const d of new Set(img.config.rootfs.diff_ids)) size += this.layers.has(d) ? this.layers.meta(d).size : 0;
      const existing = idx.images[img.configDigest];
      const rec: ImageRecord = existing ?? {
        id: img.configDigest,
        manifest: img.manifestDigest,
        repoTags: [],
        repoDigests: [],
        created: img.config.created ?? now,
        size,
        added: now,
      };
      if (img.parent && !existing) rec.parent = img.parent;
      idx.images[img.configDigest] = rec;
      for (const d of img.repoDigests ?? []) moveTag(idx, d, img.configDigest, now);
      for (const t of img.tags) {
        const old = moveTag(idx, t, img.configDigest, now);
        if (old) notes.push(`The image ${familiarString(t)} already exists, renaming the old one with ID ${old} to empty string`);
      }
    });
    return notes;
  }

  // ---------------------------------------------------------------- removal and GC

  /** docker rmi: the lines docker prints ("Untagged: …", "Deleted: …"), or a ConflictError. */
  async remove(ref: string, opts: RemoveOptions = {}): Promise<string[]> {
    const release = await this.exclusive();
    try {
      const lines: string[] = [];
      const deleted: ImageRecord[] = [];
      let remaining: IndexFile | undefined;
      let target = '';
      await this.index.update((idx) => {
        target = resolveIn(idx, ref).record.id;
        removeImage(idx, ref, opts, lines, deleted);
        remaining = idx;
      });
      emitRemoval({ paths: this.root }, target, lines, deleted);
      // Layers and blobs of deleted images that nothing else references (an image deleted
      // with --force while a container uses it keeps its layers: the container needs them).
      if (deleted.length > 0 && remaining) {
        const keep = deleted.filter((r) => opts.inUse?.(r.id));
        lines.push(...this.collect(remaining, deleted.filter((r) => !keep.includes(r))));
      }
      return lines;
    } finally {
      release();
    }
  }

  /** Remove what `gone` referenced and the remaining images do not; "Deleted: <chain id>" per layer. */
  private collect(idx: IndexFile, gone: ImageRecord[]): string[] {
    const lines: string[] = [];
    const liveLayers = new Set<string>();
    const liveBlobs = new Set<string>();
    for (const r of Object.values(idx.images)) this.references(r, liveLayers, liveBlobs);
    for (const r of gone) {
      const layers = new Set<string>();
      const blobs = new Set<string>();
      const chain = this.references(r, layers, blobs);
      // Top-most first, as docker lists the layers it released.
      for (let i = chain.diffIds.length - 1; i >= 0; i--) {
        const d = chain.diffIds[i]!;
        if (liveLayers.has(d) || !this.layers.has(d)) continue;
        this.layers.remove(d);
        liveLayers.add(d); // once
        lines.push(`Deleted: ${chain.chainIds[i]}`);
      }
      for (const b of blobs) if (!liveBlobs.has(b)) this.blobs.remove(b);
      // Its init layer (containers/rootfs.ts: made per image at its first container) goes too:
      // no container uses the image (those in use are not in `gone`), and a build makes one per step.
      rmSync(join(this.root.layers, 'init', r.id.replace(/^sha256:/, '')), { recursive: true, force: true });
    }
    return lines;
  }

  private references(r: ImageRecord, layers: Set<string>, blobs: Set<string>): { diffIds: string[]; chainIds: string[] } {
    blobs.add(r.manifest);
    blobs.add(r.id);
    let diffIds: string[] = [];
    try {
      const m = this.blobs.readJSON<Manifest>(r.manifest);
      for (const l of m.layers) blobs.add(l.digest);
      blobs.add(m.config.digest);
    } catch {
      /* a missing manifest references nothing more */
    }
    try {
      diffIds = this.blobs.readJSON<ImageConfig>(r.id).rootfs.diff_ids;
    } catch {
      /* idem */
    }
    for (const d of diffIds) layers.add(d);
    return { diffIds, chainIds: chainIds(diffIds) };
  }

  /**
   * Remove every blob, layer and temp area that no image references (crashed loads, images
   * deleted while in use once their containers are gone). `keepLayers`: diff ids some
   * container still mounts.
   */
  async prune(keepLayers: Iterable<string> = []): Promise<{ blobs: number; layers: number }> {
    const release = await this.exclusive();
    try {
      sweepTemp(this.root.tmp);
      const idx = this.records();
      const liveLayers = new Set<string>(keepLayers);
      const liveBlobs = new Set<string>();
      for (const r of Object.values(idx.images)) this.references(r, liveLayers, liveBlobs);
      let blobs = 0;
      let layers = 0;
      for (const b of this.blobs.list()) {
        if (!liveBlobs.has(b)) {
          this.blobs.remove(b);
          blobs++;
        }
      }
      for (const d of this.layers.list()) {
        if (!liveLayers.has(d)) {
          this.layers.remove(d);
          layers++;
        }
      }
      return { blobs, layers };
    } finally {
      release();
    }
  }

  // ---------------------------------------------------------------- archives (lazy: tar code)

  /** docker load: a docker-save or OCI-layout archive (path or '-' for stdin). */
  async load(src: string, opts: LoadOptions = {}): Promise<string[]> {
    const { loadArchive } = await import('./load.js');
    return loadArchive(this, src, opts);
  }

  /** docker save: a docker-save archive of `refs` to `out` (a path, or '-' for stdout). */
  async save(refs: string[], out: string, opts: SaveOptions = {}): Promise<void> {
    const { saveArchive } = await import('./save.js');
    return saveArchive(this, refs, out, opts);
  }

  /** docker import: a rootfs tarball as a one-layer image; returns its id. */
  async importRootfs(src: string, opts: ImportOptions = {}): Promise<string> {
    const { importRootfs } = await import('./import.js');
    return importRootfs(this, src, opts);
  }

  /** docker commit: a container's upper dir as a new layer on its image; returns the new id. */
  async commit(opts: CommitOptions): Promise<string> {
    const { commitContainer } = await import('./commit.js');
    return commitContainer(this, opts);
  }

  /** A new image with `parent`'s layers and a new config; docker's empty_layer history entry. */
  async commitConfig(opts: ConfigCommitOptions): Promise<string> {
    const { commitConfig } = await import('./commit.js');
    return commitConfig(this, opts);
  }

  /** Load the embedded busybox image when the store has no busybox:latest (offline, cheap when present). */
  async ensureDefault(): Promise<Image> {
    const { ensureDefault } = await import('./default-image.js');
    return ensureDefault(this);
  }
}

// ---------------------------------------------------------------- pure helpers on an index

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Keep each diff id at its top-most position only (bottom-most first order kept). */
export function dedupeTopMost(diffIds: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < diffIds.length; i++) if (diffIds.indexOf(diffIds[i]!, i + 1) === -1) out.push(diffIds[i]!);
  return out;
}

/** docker's chain ids: chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

/**
 * Point `full` (a normalized reference) at `id`, taking it from the image that had it.
 * Returns the id of the image it was taken from (docker load's "renaming the old one").
 */
function moveTag(idx: IndexFile, full: string, id: string, now: string): string | null {
  const isDigest = full.includes('@');
  let previous: string | null = null;
  for (const r of Object.values(idx.images)) {
    if (r.id === id) continue;
    const list = isDigest ? r.repoDigests : r.repoTags;
    const i = list.indexOf(full);
    if (i !== -1) {
      list.splice(i, 1);
      previous = r.id;
    }
  }
  const rec = idx.images[id]!;
  const list = isDigest ? rec.repoDigests : rec.repoTags;
  if (!list.includes(full)) list.push(full);
  rec.lastTagTime = now;
  return previous;
}

interface Resolved {
  record: ImageRecord;
  /** Resolved by its id (or a prefix), not by a name. */
  byId: boolean;
  /** The normalized reference, when by name. */
  full?: string;
}

/** docker's GetImage: a full id, a name (tag or digest), then a unique id prefix. */
export function resolveIn(idx: IndexFile, ref: string): Resolved {
  const images = idx.images;
  if (isFullId(ref)) {
    const id = ref.startsWith('sha256:') ? ref : `sha256:${ref}`;
    const r = images[id];
    if (r) return { record: r, byId: true };
    throw new NotFoundError('image', ref);
  }
  let parseError: unknown = null;
  try {
    const parsed = normalize(ref);
    const full = formatReference(parsed.digest !== undefined ? { ...parsed, tag: undefined } : parsed);
    for (const r of Object.values(images)) {
      if (parsed.digest !== undefined) {
        if (r.repoDigests.includes(`${parsed.name}@${parsed.digest}`)) return { record: r, byId: false, full };
      } else if (r.repoTags.includes(full)) return { record: r, byId: false, full };
    }
  } catch (e) {
    parseError = e;
  }
  const m = /^(?:sha256:)?([a-f0-9]{1,64})$/.exec(ref);
  if (m) {
    const hits = Object.keys(images).filter((id) => id.slice(7).startsWith(m[1]!));
    if (hits.length === 1) return { record: images[hits[0]!]!, byId: true };
    if (hits.length > 1) throw new InputError(`${ref}: ambiguous image id prefix (matches ${hits.length} images)`);
  }
  if (parseError && !m) throw parseError;
  throw new NotFoundError('image', ref);
}

function containerOf(use: ReturnType<InUse> | undefined): { id: string; running: boolean } | null {
  if (!use) return null;
  return typeof use === 'string' ? { id: use, running: false } : use;
}

/** docker's isSingleReference: one tag (plus digests of that same repository), or one digest. */
function isSingleReference(refs: string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const repo = (r: string) => parseReference(r).name;
  const canonical = new Set(refs.filter((r) => r.includes('@')).map(repo));
  const tags = refs.filter((r) => !r.includes('@'));
  if (tags.length > 1) return false;
  const single = tags[0] ?? refs[0]!;
  return canonical.size === 1 && canonical.has(repo(single));
}

class DeleteConflict extends ConflictError {
  constructor(
    id: string,
    readonly hard: boolean,
    what: string,
  ) {
    super(`conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${what}`);
  }
}

/**
 * docker's events of an rmi, from its lines: `untag` (name: the reference) for each Untagged
 * line, under the image whose Deleted line follows (the one named when none does), and `delete`.
 */
function emitRemoval(engine: { paths: DataRoot }, target: string, lines: string[], deleted: ImageRecord[]): void {
  const ids = new Set(deleted.map((r) => r.id));
  let pending: string[] = [];
  for (const l of lines) {
    if (l.startsWith('Untagged: ')) pending.push(l.slice('Untagged: '.length));
    const d = l.startsWith('Deleted: ') ? l.slice('Deleted: '.length) : '';
    if (!ids.has(d)) continue;
    for (const name of pending) emitImage(engine, 'untag', d, name);
    pending = [];
    emitImage(engine, 'delete', d, d);
  }
  for (const name of pending) emitImage(engine, 'untag', target, name);
}

/** docker's ImageDelete, on the index (the caller removes layers and blobs afterwards). */
function removeImage(idx: IndexFile, ref: string, opts: RemoveOptions, lines: string[], deleted: ImageRecord[]): void {
  const { record: rec, byId, full } = resolveIn(idx, ref);
  const force = opts.force === true;
  const user = containerOf(opts.inUse?.(rec.id));
  const refsOf = (r: ImageRecord) => [...r.repoTags, ...r.repoDigests];
  const untag = (r: ImageRecord, name: string) => {
    r.repoTags = r.repoTags.filter((t) => t !== name);
    r.repoDigests = r.repoDigests.filter((t) => t !== name);
    lines.push(`Untagged: ${familiarString(name)}`);
  };
  if (!byId && full) {
    if (!force && isSingleReference(refsOf(rec)) && user) {
      throw new ConflictError(
        `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(rec.id)}`,
      );
    }
    untag(rec, full);
    if (!full.includes('@')) {
      const name = parseReference(full).name;
      if (!rec.repoTags.some((t) => parseReference(t).name === name)) {
        for (const d of rec.repoDigests.filter((x) => parseReference(x).name === name)) untag(rec, d);
      }
    }
    if (refsOf(rec).length > 0) return;
  } else if (isSingleReference(refsOf(rec))) {
    if (user?.running) throw new DeleteConflict(rec.id, true, `image is being used by running container ${shortId(user.id)}`);
    if (!force && user) throw new DeleteConflict(rec.id, false, `image is being used by stopped container ${shortId(user.id)}`);
    for (const r of refsOf(rec)) untag(rec, r);
  }
  deleteRecord(idx, rec, force, opts, user, lines, deleted);
}

function deleteRecord(
  idx: IndexFile,
  rec: ImageRecord,
  force: boolean,
  opts: RemoveOptions,
  user: { id: string; running: boolean } | null,
  lines: string[],
  deleted: ImageRecord[],
): void {
  const children = Object.values(idx.images).filter((r) => r.parent === rec.id);
  if (children.length > 0) throw new DeleteConflict(rec.id, true, 'image has dependent child images');
  if (user?.running) throw new DeleteConflict(rec.id, true, `image is being used by running container ${shortId(user.id)}`);
  if (!force && rec.repoTags.length + rec.repoDigests.length > 0) throw new DeleteConflict(rec.id, false, 'image is referenced in multiple repositories');
  if (!force && user) throw new DeleteConflict(rec.id, false, `image is being used by stopped container ${shortId(user.id)}`);
  for (const r of [...rec.repoTags, ...rec.repoDigests]) lines.push(`Untagged: ${familiarString(r)}`);
  delete idx.images[rec.id];
  deleted.push(rec);
  lines.push(`Deleted: ${rec.id}`);
  // docker's prune of untagged parents (unless --no-prune): a parent with no name, no other
  // child and no container goes too.
  if (opts.noPrune || !rec.parent) return;
  const parent = idx.images[rec.parent];
  if (!parent || parent.repoTags.length + parent.repoDigests.length > 0) return;
  if (Object.values(idx.images).some((r) => r.parent === parent.id)) return;
  if (opts.inUse?.(parent.id)) return;
  deleteRecord(idx, parent, false, opts, null, lines, deleted);
}
