// docker commit: a container's overlay upper dir as a NEW layer on top of its image. The
// upper dir is walked (tree-tar.ts: overlay whiteouts become OCI ones, volume mountpoints'
// contents left out, never following a symlink), and the tar it makes is at once the
// layer's blob and the stream the new layer is unpacked from: one pass, and the diff id in
// the config is the digest of exactly the blob we keep.
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { InputError } from '../errors.js';
import { applyChanges } from './config-changes.js';
import type { Release } from './locks.js';
import { canonicalConfig, hostPlatform, MEDIA, ociManifest, type Manifest } from './manifest.js';
import { formatReference, normalize } from './reference.js';
import type { CommitOptions, ConfigCommitOptions, ImageStore } from './store.js';
import { tarWriter } from './tar.js';
import { packTree } from './tree-tar.js';
import type { HistoryEntry, ImageConfig } from './types.js';

export async function commitContainer(store: ImageStore, opts: CommitOptions): Promise<string> {
  const tag = opts.ref !== undefined ? normalize(opts.ref) : undefined;
  if (tag?.digest !== undefined) throw new InputError(`commit: ${opts.ref}: a digest cannot name a committed image`);
  const parent = opts.parent;
  const runConfig = applyChanges(opts.config ?? parent.config.config, opts.changes);
  const progress = opts.progress?.onLayer?.bind(opts.progress);
  const hold = await store.hold();
  const t = store.tempArea('commit');
  let layerLock: Release | undefined;
  try {
    const parentManifest = store.blobs.readJSON<Manifest>(parent.manifestDigest);
    const blobPath = join(t.path, 'layer.tar');
    const pack = tarWriter();
    const tar = new PassThrough({ highWaterMark: 1 << 20 });
    pack.pipe(tar);
    pack.on('error', (e) => tar.destroy(e));
    let done = 0;
    const onBytes = (n: number) => {
      done += n;
      progress?.({ digest: 'layer', phase: 'Committing', done });
    };
    await opts.pause?.pause();
    let layerP;
    try {
      layerP = store.layers.unpackTar(tar, t.path, `commit ${opts.upperDir}`, { copyTo: blobPath });
      // A failed unpack stops the walk (nobody would read what it writes).
      layerP.catch((e: unknown) => pack.destroy(e as Error));
      const walked = packTree(opts.upperDir, pack, { overlay: true, exclude: opts.exclude ?? [], onBytes, what: opts.upperDir }).then(
        () => pack.finalize(),
        (e: unknown) => {
          pack.destroy(e as Error);
          throw e;
        },
      );
      // Both settle before we leave (and remove the temp area they write into).
      const [w, l] = await Promise.allSettled([walked, layerP]);
      if (w.status === 'rejected') throw w.reason;
      if (l.status === 'rejected') throw l.reason;
    } finally {
      await opts.pause?.resume();
    }
    const layer = await layerP;
    const diffId = layer.meta.diffId;
    const now = new Date().toISOString();
    const h: HistoryEntry = { created: now, created_by: opts.createdBy ?? '' };
    if (opts.author) h.author = opts.author;
    if (opts.message) h.comment = opts.message;
    const base = parent.config;
    const config: ImageConfig = {
      architecture: base.architecture,
      ...(base.variant ? { variant: base.variant } : {}),
      os: base.os,
      created: now,
      ...(opts.author ? { author: opts.author } : {}),
      config: runConfig,
      rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, diffId] },
      history: [...(base.history ?? []), h],
    };
    const configBytes = canonicalConfig(config);
    const configBlob = store.blobs.ingestBytes(configBytes, t.path, 'config.json');
    const layerBlob = { path: blobPath, digest: diffId, size: layer.meta.tarSize };
    const manifest = ociManifest({ digest: configBlob.digest, size: configBlob.size }, [
      ...parentManifest.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
      { digest: diffId, size: layer.meta.tarSize, mediaType: MEDIA.ociLayer },
    ]);
    const manifestBlob = store.blobs.ingestBytes(manifest, t.path, 'manifest.json');
    layerLock = await store.layers.lockLayer(diffId);
    await store.addImage({
      configDigest: configBlob.digest,
      manifestDigest: manifestBlob.digest,
      config,
      blobs: [layerBlob, configBlob, manifestBlob],
      layers: [layer],
      tags: tag ? [formatReference(tag)] : [],
      parent: parent.id,
    });
    return configBlob.digest;
  } finally {
    layerLock?.();
    t.dispose();
    hold();
  }
}

/**
 * A build step that changed only the config (ENV, CMD, LABEL… or a RUN that wrote nothing):
 * the parent's layers as they are, a new config, and a history entry marked empty_layer, as
 * docker's NewChildImage does when the diff is empty. With no parent (FROM scratch), an image
 * without layers for the host's platform.
 */
export async function commitConfig(store: ImageStore, opts: ConfigCommitOptions): Promise<string> {
  const hold = await store.hold();
  const t = store.tempArea('commit');
  try {
    const parent = opts.parent;
    const base: ImageConfig = parent?.config ?? { ...hostPlatform(), rootfs: { type: 'layers', diff_ids: [] }, history: [] };
    const now = new Date().toISOString();
    const history: HistoryEntry[] = [...(base.history ?? [])];
    if (opts.createdBy !== null) history.push({ created: now, created_by: opts.createdBy, empty_layer: true });
    const config: ImageConfig = {
      architecture: base.architecture,
      ...(base.variant ? { variant: base.variant } : {}),
      os: base.os,
      created: now,
      config: opts.config,
      rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids] },
      history,
    };
    const configBlob = store.blobs.ingestBytes(canonicalConfig(config), t.path, 'config.json');
    const layers = parent ? store.blobs.readJSON<Manifest>(parent.manifestDigest).layers : [];
    const manifest = ociManifest(
      { digest: configBlob.digest, size: configBlob.size },
      layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
    );
    const manifestBlob = store.blobs.ingestBytes(manifest, t.path, 'manifest.json');
    await store.addImage({
      configDigest: configBlob.digest,
      manifestDigest: manifestBlob.digest,
      config,
      blobs: [configBlob, manifestBlob],
      layers: [],
      tags: [],
      ...(parent ? { parent: parent.id } : {}),
    });
    return configBlob.digest;
  } finally {
    t.dispose();
    hold();
  }
}
