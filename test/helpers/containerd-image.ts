// A busybox image archive for `ctr image import`, written offline from bundles/rootfs.
//
// Why by hand rather than umoci + skopeo: an OCI image is four small JSON documents and one
// gzipped tar, so Node plus GNU tar (always on Debian) writes it in well under a second, with
// no extra packages and no side effects on the host (skopeo writes
// /var/lib/containers/cache/blob-info-cache-v1.boltdb, which the suite would then leave behind).
// The layout follows image-spec 1.0: oci-layout, index.json, blobs/sha256/<hex>, tarred.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const IMAGE_REF = 'docker.io/library/mydocker-busybox:latest';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** GOARCH names, as image configs and containerd's platform matcher use them. */
function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

/** Tar the rootfs as one layer: owned by root, sorted, fixed mtime (same input, same digest). */
function layerTar(rootfs: string): Buffer {
  const r = spawnSync(
    'tar',
    ['--create', '--file=-', '--numeric-owner', '--owner=0', '--group=0', '--sort=name', '--mtime=@0', '--directory', rootfs, '.'],
    { maxBuffer: 256 << 20 },
  );
  if (r.status !== 0) throw new Error(`tar ${rootfs}: ${r.error?.message ?? r.stderr.toString().trim()}`);
  return r.stdout;
}

/**
 * Write an OCI layout of `rootfs` under `dir`/layout and tar it to `dir`/busybox-oci.tar.
 * The index names the manifest with the full reference, as `skopeo copy … oci-archive:…:<ref>`
 * does, so `ctr image import` gives it that name.
 */
export function buildImageArchive(rootfs: string, dir: string): string {
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (mediaType: string, data: Buffer | string): Descriptor => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const hex = sha256(buf);
    writeFileSync(join(blobs, hex), buf);
    return { mediaType, digest: `sha256:${hex}`, size: buf.length };
  };

  const tar = layerTar(rootfs);
  const layer = blob(OCI_LAYER_GZIP, gzipSync(tar, { level: 6 }));
  const created = '1970-01-01T00:00:00Z';
  const config = blob(
    OCI_CONFIG,
    JSON.stringify({
      created,
      architecture: goArch(),
      os: 'linux',
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ['/bin/sh'],
        WorkingDir: '/',
        User: '0:0',
      },
      // diff_ids name the uncompressed layer: containerd checks it after unpacking.
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] },
      history: [{ created, created_by: 'mydocker-runc test/helpers/containerd-image.ts (bundles/rootfs)' }],
    }),
  );
  const manifest = blob(OCI_MANIFEST, JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }));
  manifest.annotations = { 'org.opencontainers.image.ref.name': IMAGE_REF };
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [manifest] }),
  );

  const archive = join(dir, 'busybox-oci.tar');
  const r = spawnSync('tar', ['--create', `--file=${archive}`, '--numeric-owner', '--owner=0', '--group=0', '--directory', layout, 'oci-layout', 'index.json', 'blobs']);
  if (r.status !== 0) throw new Error(`tar ${archive}: ${r.stderr.toString().trim()}`);
  return archive;
}
