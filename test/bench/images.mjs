// Image store bench: `load` of a multi-layer docker-save archive, ours (the library, in a
// fresh Node process as the CLI would be) side by side with skopeo (copy docker-archive: →
// oci:, which verifies and stores the blobs but unpacks nothing) and podman (load into its
// overlay store, which unpacks every layer as we do). Each run starts from an empty store;
// the tools alternate run by run; medians; ratios ours/theirs. Never fails on a time.
//   node test/bench/images.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const RUNS = Math.max(1, Number(runsAt >= 0 ? argv[runsAt + 1] : process.env.BENCH_RUNS ?? '7'));
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const { tarOf, dockerArchive, image } = await import(join(REPO, 'build/test/helpers/images.js'));
const WORK = mkdtempSync('/var/tmp/mdbi-');

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
const have = (cmd) => spawnSync(cmd, ['--version']).status === 0;

try {
  // Four layers of 1000 small-to-medium files each (about 60 MB in all), with whiteouts and
  // opaque dirs. Under /var/tmp, where podman keeps its temp files too (on this machine
  // creating a file under /tmp costs far more than elsewhere on the same disk).
  const layers = [];
  const blob = Buffer.alloc(48 * 1024, 'b');
  for (let l = 0; l < 4; l++) {
    const entries = [{ name: `d${l}/`, type: 'directory' }];
    for (let i = 0; i < 1000; i++) entries.push({ name: `d${l}/f${i}`, data: i % 10 === 0 ? blob.subarray(0, 4096 + i * 37) : blob.subarray(0, 12 * 1024 + i) });
    if (l > 0) entries.push({ name: `d${l - 1}/.wh.f1` }, { name: `d${l - 1}/sub/`, type: 'directory' }, { name: `d${l - 1}/sub/.wh..wh..opq` });
    layers.push(await tarOf(entries));
  }
  const archive = join(WORK, 'multi.tar');
  writeFileSync(archive, await dockerArchive([image(layers, { tags: ['bench:1'] })]));
  const size = statSync(archive).size;

  const store = join(REPO, 'build/src/mydocker/images/store.js');
  const paths = join(REPO, 'build/src/mydocker/paths.js');
  const ours = (i) => [process.execPath, ['--input-type=module', '-e', `const { ImageStore } = await import(${JSON.stringify(store)}); const { DataRoot } = await import(${JSON.stringify(paths)}); await new ImageStore(new DataRoot(${JSON.stringify(join(WORK, `ours-${i}`))})).load(${JSON.stringify(archive)});`]];
  const tools = [{ name: 'mydocker load', cmd: ours }];
  if (have('skopeo')) tools.push({ name: 'skopeo copy docker-archive: → oci:', cmd: (i) => ['skopeo', ['copy', '--quiet', `docker-archive:${archive}`, `oci:${join(WORK, `oci-${i}`)}:bench`]] });
  if (have('podman')) {
    tools.push({
      name: 'podman load (overlay store)',
      cmd: (i) => ['podman', ['--root', join(WORK, `podman-${i}`), '--runroot', join(WORK, `pr${i}`), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'overlay', 'load', '-q', '-i', archive]],
    });
  }
  const times = new Map(tools.map((t) => [t.name, []]));
  let i = 0;
  for (let r = 0; r < RUNS + 1; r++) {
    for (const t of tools) {
      const [cmd, args] = t.cmd(++i);
      const ms = timeIt(cmd, args);
      if (r > 0) times.get(t.name).push(ms); // the first round warms the page cache
    }
  }
  const ourMs = median(times.get('mydocker load'));
  console.log(`\nImage load: a docker-save archive of ${layers.length} layers, ${(size / 1e6).toFixed(1)} MB, ~4000 files; median of ${RUNS} runs, empty store each run`);
  console.log('| figure                                   | time       | ours/theirs |');
  console.log('|------------------------------------------|------------|-------------|');
  for (const t of tools) {
    const m = median(times.get(t.name));
    const ratio = t.name === 'mydocker load' ? '' : `${(ourMs / m).toFixed(2)}×`;
    console.log(`| ${t.name.padEnd(40)} | ${`${m.toFixed(0)} ms`.padEnd(10)} | ${ratio.padEnd(11)} |`);
  }
  console.log('(ours includes a Node start-up; skopeo unpacks nothing, podman and ours unpack every layer)');
} finally {
  // podman's overlay store may hold nothing mounted after a load; make sure before removing.
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(WORK));
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  rmSync(WORK, { recursive: true, force: true });
}
