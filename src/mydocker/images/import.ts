// docker import: a rootfs tarball (.tar, .tar.gz/.tgz, .tar.xz, .tar.zst, .tar.bz2 — told
// apart by magic bytes, not by name) as a new one-layer image. The uncompressed tar is the
// layer blob (its digest is the diff id), written while the layer is unpacked: one pass.
import { join } from 'node:path';
import { applyChanges } from './config-changes.js';
import { openArchive } from './archive-input.js';
import type { ImageConfig } from './types.js';
import { canonicalConfig, hostPlatform, MEDIA, ociManifest } from './manifest.js';
import { formatReference, normalize } from './reference.js';
import type { ImageStore, ImportOptions } from './store.js';
import type { Release } from './locks.js';
import { InputError } from '../errors.js';

export async function importRootfs(store: ImageStore, src: string, opts: ImportOptions): Promise<string> {
  // Check the name before reading anything.
  const tag = opts.ref !== undefined ? normalize(opts.ref) : undefined;
  if (tag?.digest !== undefined) throw new InputError(`import: ${opts.ref}: a digest cannot be given to an imported image`);
  const runConfig = applyChanges({}, opts.changes);
  const progress = opts.progress?.onLayer?.bind(opts.progress);
  const hold = await store.hold();
  const t = store.tempArea('import');
  let layerLock: Release | undefined;
  try {
    const archive = await openArchive(src);
    let read = 0;
    archive.onRead((n) => {
      read += n;
      progress?.({ digest: 'archive', phase: 'Importing', done: read, ...(archive.total !== undefined ? { total: archive.total } : {}) });
    });
    const blobPath = join(t.path, 'layer.tar');
    const layer = await store.layers.unpackTar(archive.tar, t.path, archive.what, { copyTo: blobPath });
    const diffId = layer.meta.diffId;
    const now = new Date().toISOString();
    const platform = { ...hostPlatform(), ...(opts.platform ?? {}) };
    const config: ImageConfig = {
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: platform.os,
      created: now,
      config: runConfig,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: now, comment: opts.message ?? `Imported from ${src}` }],
    };
    const configBytes = canonicalConfig(config);
    const configBlob = store.blobs.ingestBytes(configBytes, t.path, 'config.json');
    const layerBlob = { path: blobPath, digest: diffId, size: layer.meta.tarSize };
    const manifest = ociManifest({ digest: configBlob.digest, size: configBlob.size }, [{ digest: diffId, size: layer.meta.tarSize, mediaType: MEDIA.ociLayer }]);
    const manifestBlob = store.blobs.ingestBytes(manifest, t.path, 'manifest.json');
    layerLock = await store.layers.lockLayer(diffId);
    await store.addImage({
      configDigest: configBlob.digest,
      manifestDigest: manifestBlob.digest,
      config,
      blobs: [layerBlob, configBlob, manifestBlob],
      layers: [layer],
      tags: tag ? [formatReference(tag)] : [],
    });
    return configBlob.digest;
  } finally {
    layerLock?.();
    t.dispose();
    hold();
  }
}
