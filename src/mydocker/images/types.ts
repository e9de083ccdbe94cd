// The image store's contract with the rest of mydocker (containers, CLI verbs, pull/push).
//
// Images are OCI images: a manifest, a config and layers, kept in a content store (blobs by
// digest, as received) with an index of names; each layer is also unpacked once, by diff id,
// into a directory that every container of every image having it mounts read-only as an
// overlayfs lowerdir. An image's id is the digest of its config blob, as docker's.

/** The part of an image config a container is run from (docker's names, OCI's JSON). */
export interface ImageRunConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  /** HEALTHCHECK (docker's image config extension; durations in ns). */
  Healthcheck?: import('../containers/health.js').HealthConfig;
  /** A Dockerfile's SHELL: what shell-form RUN, CMD and ENTRYPOINT of later builds run under. */
  Shell?: string[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** application/vnd.oci.image.config.v1+json (= docker's image JSON for the fields we keep). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ImageRunConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

export interface Image {
  /** "sha256:<64 hex>": the digest of the config blob (docker's image ID). */
  id: string;
  /** Normalized references, e.g. "docker.io/library/busybox:latest" (displayed as docker does). */
  repoTags: string[];
  /** "name@sha256:…" of the manifest, for images that came from a registry. */
  repoDigests: string[];
  /** Digest of the stored manifest (OCI image manifest). */
  manifestDigest: string;
  /** config.created, or the time it entered the store. */
  created: string;
  /** Sum of the unpacked layers' sizes in bytes (docker's SIZE column). */
  size: number;
  config: ImageConfig;
}

/** Changes `commit -c` / `import -c` apply to a config (Dockerfile instructions). */
export type ConfigChange = string; // e.g. 'CMD ["sh"]', 'ENV A=1', 'WORKDIR /x', 'ENTRYPOINT …', 'USER …', 'LABEL …', 'EXPOSE …', 'VOLUME …', 'STOPSIGNAL …'

export interface Progress {
  /** Called with human-readable events; the CLI shows a bar on a tty and nothing otherwise. */
  onLayer?(event: { digest: string; phase: string; done?: number; total?: number }): void;
}
