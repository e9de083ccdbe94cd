// Registry bench: `pull` of a multi-layer image from a local docker-registry (127.0.0.1, its
// own temp storage), ours (the CLI, a fresh Node process) side by side with skopeo (copy
// docker:// → oci:, which downloads and verifies the blobs but unpacks nothing) and podman
// (pull into its overlay store, which unpacks every layer as we do). The image is pushed once
// by skopeo from an archive built offline (gzip layers, as registries hold them). Each run
// starts from an empty store; the tools alternate run by run; medians; ratios ours/theirs.
// Never fails on a time.
//   node test/bench/registry.mjs [--runs N]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const RUNS = Math.max(1, Number(runsAt >= 0 ? argv[runsAt + 1] : process.env.BENCH_RUNS ?? '5'));
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const have = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
if (!existsSync('/usr/bin/docker-registry') || !have('skopeo')) {
  console.log('\nRegistry pull bench: skipped (docker-registry or skopeo missing: src/build/setup.sh installs them)');
  process.exit(0);
}

const { tarOf, dockerArchive, image } = await import(join(REPO, 'build/test/helpers/images.js'));
// Under /var/tmp, as the image-load bench (creating files under /tmp costs more here).
const WORK = mkdtempSync('/var/tmp/mdbr-');
let registry = null;
let runNo = 0;
// Interrupted: the registry dies with our stdin (its watchdog); our files go now.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { rmSync(WORK, { recursive: true, force: true }); process.exit(130); });

function timeIt(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
  return ms;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

try {
  // The registry, under a watchdog that kills it when our stdin closes.
  const cfg = join(WORK, 'config.yml');
  const log = join(WORK, 'registry.log');
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(WORK, 'storage')}\nhttp:\n  addr: 127.0.0.1:0\n  secret: bench\n`);
  registry = spawn('sh', ['-c', 'docker-registry serve "$1" >"$2" 2>&1 & p=$!; read _ || true; kill $p 2>/dev/null; wait $p', 'sh', cfg, log], { stdio: ['pipe', 'ignore', 'ignore'] });
  let host = '';
  for (let i = 0; i < 200 && !host; i++) {
    await sleep(50);
    const m = existsSync(log) ? /listening on (127\.0\.0\.1:\d+)/.exec(readFileSync(log, 'utf8')) : null;
    if (m) host = m[1];
  }
  if (!host) throw new Error(`docker-registry did not start: ${readFileSync(log, 'utf8')}`);

  // Two images. "files": four layers of 1000 small-to-medium files each (about 60 MB
  // uncompressed, compressing well), with whiteouts and opaque dirs — the image-load bench's
  // image, where creating files dominates. "blobs": three layers of one 24 MB file of random
  // bytes each — where moving, hashing and writing bytes dominates.
  const layers = [];
  const blob = Buffer.alloc(48 * 1024, 'b');
  for (let l = 0; l < 4; l++) {
    const entries = [{ name: `d${l}/`, type: 'directory' }];
    for (let i = 0; i < 1000; i++) entries.push({ name: `d${l}/f${i}`, data: i % 10 === 0 ? blob.subarray(0, 4096 + i * 37) : blob.subarray(0, 12 * 1024 + i) });
    if (l > 0) entries.push({ name: `d${l - 1}/.wh.f1` }, { name: `d${l - 1}/sub/`, type: 'directory' }, { name: `d${l - 1}/sub/.wh..wh..opq` });
    layers.push(await tarOf(entries));
  }
  const images = [
    { name: 'files', layers, note: '~4000 files' },
    { name: 'blobs', layers: await Promise.all([0, 1, 2].map((l) => tarOf([{ name: `blob${l}`, data: randomBytes(24 << 20) }]))), note: '3 files' },
  ];
  for (const img of images) {
    const archive = join(WORK, `${img.name}.tar`);
    writeFileSync(archive, await dockerArchive([image(img.layers, { tags: ['bench:1'] })]));
    const push = spawnSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${host}/bench/${img.name}:1`], { encoding: 'utf8' });
    if (push.status !== 0) throw new Error(`skopeo copy: ${push.stderr}`);
    rmSync(archive);
    const ref = `${host}/bench/${img.name}:1`;
    const raw = JSON.parse(spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' }).stdout);
    const compressed = raw.layers.reduce((a, l) => a + l.size, 0);

    const tools = [{ name: 'mydocker pull', cmd: (i) => [process.execPath, [join(REPO, 'dist/mydocker.js'), '--root', join(WORK, `ours-${i}`), 'pull', '-q', ref]] }];
    tools.push({ name: 'skopeo copy docker:// → oci:', cmd: (i) => ['skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(WORK, `oci-${i}`)}:bench`]] });
    if (have('podman')) {
      tools.push({
        name: 'podman pull (overlay store)',
        cmd: (i) => ['podman', ['--root', join(WORK, `podman-${i}`), '--runroot', join(WORK, `pr${i}`), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'overlay', 'pull', '-q', '--tls-verify=false', ref]],
      });
    }
    const times = new Map(tools.map((t) => [t.name, []]));
    for (let r = 0; r < RUNS + 1; r++) {
      for (const t of tools) {
        const i = ++runNo;
        const [cmd, args] = t.cmd(i);
        const ms = timeIt(cmd, args);
        if (r > 0) times.get(t.name).push(ms); // the first round warms caches
        for (const d of [`ours-${i}`, `oci-${i}`]) rmSync(join(WORK, d), { recursive: true, force: true });
      }
    }
    const ourMs = median(times.get('mydocker pull'));
    console.log(`\nRegistry pull "${img.name}": ${img.layers.length} gzip layers, ${(compressed / 1e6).toFixed(1)} MB compressed, ${img.note}, from docker-registry on 127.0.0.1; median of ${RUNS} runs, empty store each run`);
    console.log('| figure                                   | time       | ours/theirs |');
    console.log('|------------------------------------------|------------|-------------|');
    for (const t of tools) {
      const m = median(times.get(t.name));
      const ratio = t.name === 'mydocker pull' ? '' : `${(ourMs / m).toFixed(2)}×`;
      console.log(`| ${t.name.padEnd(40)} | ${`${m.toFixed(0)} ms`.padEnd(10)} | ${ratio.padEnd(11)} |`);
    }
  }
  console.log('(ours includes a Node start-up; skopeo unpacks nothing, podman and ours unpack every layer)');
} finally {
  if (registry && registry.exitCode === null) {
    const gone = new Promise((r) => registry.once('exit', r));
    registry.stdin.end();
    await Promise.race([gone, sleep(5000)]);
    if (registry.exitCode === null) registry.kill('SIGKILL');
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(WORK));
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  rmSync(WORK, { recursive: true, force: true });
}
