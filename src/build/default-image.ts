// Build step (run by `make` after the rootfs exists): the embedded default image, a
// docker-save archive of busybox:latest made from bundles/rootfs (the host's static busybox).
//   node build/src/build/default-image.js ROOTFS OUT
// Reproducible: entries sorted, every mtime SOURCE_DATE_EPOCH (default 0), uid/gid 0, no
// xattrs, a fixed `created` — two builds from the same busybox give the same image id.
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import { sha256 } from '../mydocker/images/digest.js';
import { canonicalConfig, hostPlatform } from '../mydocker/images/manifest.js';
import { writeDockerArchive } from '../mydocker/images/save.js';
import { tarWriter } from '../mydocker/images/tar.js';
import { packTree } from '../mydocker/images/tree-tar.js';
import type { ImageConfig } from '../mydocker/images/types.js';

const [rootfs, out] = process.argv.slice(2);
if (!rootfs || !out) {
  console.error('usage: default-image ROOTFS OUT');
  process.exit(2);
}
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? '0');
const mtime = new Date(epoch * 1000);

const pack = tarWriter();
const sink = new PassThrough();
const chunks: Buffer[] = [];
sink.on('data', (c: Buffer) => chunks.push(c));
pack.pipe(sink);
const ended = new Promise((r) => sink.on('end', r));
await packTree(rootfs, pack, { deterministic: { mtime } });
pack.finalize();
await ended;
const layer = Buffer.concat(chunks);
const diffId = sha256(layer);

const platform = hostPlatform();
const config: ImageConfig = {
  architecture: platform.architecture,
  os: platform.os,
  created: mtime.toISOString(),
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [diffId] },
  history: [{ created: mtime.toISOString(), created_by: 'mydocker make: the host\'s static busybox (src/build/make-rootfs.sh)' }],
};
const configBytes = canonicalConfig(config);
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.tmp-${process.pid}`;
try {
  await writeDockerArchive(
    [{ configBytes, configDigest: sha256(configBytes), tags: ['busybox:latest'], layers: [{ diffId, size: layer.length, data: async function* () { yield layer; } }] }],
    createWriteStream(tmp),
    mtime,
  );
  renameSync(tmp, out);
} catch (e) {
  rmSync(tmp, { force: true });
  throw e;
}
console.log(`${out}: busybox:latest ${sha256(configBytes)}`);
