// OCI (and docker v2) manifests, descriptors and media types.
import type { Compression } from './compression.js';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface IndexManifest {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export const isManifestType = (t?: string) => t === MEDIA.ociManifest || t === MEDIA.dockerManifest;
export const isIndexType = (t?: string) => t === MEDIA.ociIndex || t === MEDIA.dockerList;
/** Foreign (non-distributable) layers live elsewhere (Windows base layers): refused. */
export const isForeignLayer = (t: string) => /foreign|nondistributable/.test(t);

export function layerMediaType(c: Compression): string {
  switch (c) {
    case 'gzip':
      return MEDIA.ociLayerGzip;
    case 'zstd':
      return MEDIA.ociLayerZstd;
    default:
      return MEDIA.ociLayer;
  }
}

/** An OCI image manifest for a config and layer blobs, as canonical bytes. */
export function ociManifest(config: { digest: string; size: number }, layers: { digest: string; size: number; mediaType: string }[]): Buffer {
  const m: Manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  return Buffer.from(JSON.stringify(m));
}

/** The host's platform in OCI's words (GOARCH names). */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { architecture: arch[process.arch] ?? process.arch, os: 'linux' };
}

/** A time as Go's encoding/json writes it (RFC 3339, no trailing zeros in the fraction). */
export function goTime(d: Date | string): string {
  const iso = typeof d === 'string' ? d : d.toISOString();
  return iso.replace(/\.(\d*?)0+Z$/, (_m, f: string) => (f ? `.${f}Z` : 'Z'));
}

function sortedMap<T>(m: Record<string, T> | null | undefined): Record<string, T> | undefined {
  if (!m || Object.keys(m).length === 0) return undefined;
  const out: Record<string, T> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

function nonEmpty<T>(a: T[] | null | undefined): T[] | undefined {
  return a && a.length > 0 ? a : undefined;
}

/**
 * The bytes of an image config we write (import, commit, the default image), in the field
 * order and form of the OCI Go structs (omitempty, sorted map keys, Go times): tools that
 * re-marshal a config (skopeo/podman converting docker → OCI) then produce the same bytes,
 * and the image keeps its id.
 */
export function canonicalConfig(c: import('./types.js').ImageConfig): Buffer {
  const rc = c.config ?? {};
  const config = {
    User: rc.User || undefined,
    ExposedPorts: sortedMap(rc.ExposedPorts),
    Env: nonEmpty(rc.Env),
    Entrypoint: nonEmpty(rc.Entrypoint),
    Cmd: nonEmpty(rc.Cmd),
    Volumes: sortedMap(rc.Volumes),
    WorkingDir: rc.WorkingDir || undefined,
    Labels: sortedMap(rc.Labels),
    StopSignal: rc.StopSignal || undefined,
    // docker's extension of the OCI config (its field order, omitempty).
    Healthcheck: rc.Healthcheck ? { Test: nonEmpty(rc.Healthcheck.Test), Interval: rc.Healthcheck.Interval || undefined, Timeout: rc.Healthcheck.Timeout || undefined, StartPeriod: rc.Healthcheck.StartPeriod || undefined, StartInterval: rc.Healthcheck.StartInterval || undefined, Retries: rc.Healthcheck.Retries || undefined } : undefined,
    // docker's own field (not OCI's): a built image's SHELL, for builds FROM it. Absent unless set.
    Shell: nonEmpty(rc.Shell),
  };
  const out = {
    created: c.created ? goTime(c.created) : undefined,
    author: c.author || undefined,
    architecture: c.architecture,
    variant: c.variant || undefined,
    os: c.os,
    config,
    rootfs: { type: 'layers', diff_ids: c.rootfs.diff_ids },
    history: nonEmpty(
      (c.history ?? []).map((h) => ({
        created: h.created ? goTime(h.created) : undefined,
        created_by: h.created_by || undefined,
        author: h.author || undefined,
        comment: h.comment || undefined,
        empty_layer: h.empty_layer || undefined,
      })),
    ),
  };
  return Buffer.from(JSON.stringify(out));
}
