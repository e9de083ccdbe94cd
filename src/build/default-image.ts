// Build step (run by `make`): the embedded default image, a docker-save archive of
// busybox:latest made from the host's static busybox.
//   node build/src/build/default-image.js OUT
// The rootfs is made afresh by src/build/make-rootfs.sh (the script behind bundles/rootfs) in
// a temp dir: bundles/rootfs is shared with the runtime's tests, which create mountpoints in
// it, and the image must not depend on what ran before. Reproducible: entries sorted, every
// mtime SOURCE_DATE_EPOCH (default: the host busybox's own mtime, i.e. when its package was
// built — not 1970, which `mydocker images` would show as "56 years ago"), uid/gid 0, no
// xattrs, a fixed `created` — two builds from the same busybox give the same image id.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { sha256 } from '../mydocker/images/digest.js';
import { canonicalConfig, hostPlatform } from '../mydocker/images/manifest.js';
import { writeDockerArchive } from '../mydocker/images/save.js';
import { tarWriter } from '../mydocker/images/tar.js';
import { packTree } from '../mydocker/images/tree-tar.js';
import type { ImageConfig } from '../mydocker/images/types.js';

const [out] = process.argv.slice(2);
if (!out) {
  console.error('usage: default-image OUT');
  process.exit(2);
}
// build/src/build/default-image.js → the repository's src/build/make-rootfs.sh
const script = fileURLToPath(new URL('../../../src/build/make-rootfs.sh', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'mydocker-default-image-'));
const rootfs = join(work, 'rootfs');
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
process.umask(0o022); // modes in the image must not depend on the builder's umask
const made = spawnSync(script, [rootfs], { stdio: 'inherit', env: { ...process.env, LC_ALL: 'C' } });
if (made.status !== 0) process.exit(made.status ?? 1);
/** The host's busybox, as make-rootfs.sh found it (`command -v busybox`): the copy has a new mtime. */
function hostBusybox(): string {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const p = join(d || '.', 'busybox');
    if (existsSync(p)) return realpathSync(p);
  }
  throw new Error('default-image: busybox not found in PATH');
}
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(statSync(hostBusybox()).mtimeMs / 1000));
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
