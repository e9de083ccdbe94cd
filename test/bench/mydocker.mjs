#!/usr/bin/env node
// `make bench` (mydocker part): mydocker side by side with podman — podman on Debian's runc and
// podman on our runtime — on the same busybox image, alternating run by run, medians.
//
//   run --rm busybox true          wall time of the whole command, from spawn to exit (no network)
//   run --rm -p PORT:80 … true     the same on a bridge network with a published port: mydocker
//                                  on its default bridge (its CNI hook: ADD and DEL), podman on
//                                  the reference CNI chain (bridge + host-local + portmap)
//   run -d … sleep, then rm -f     wall time of the pair
//   resident per running container RSS of what stays besides the container's own processes
//                                  (the monitor: conmon for both), with 5 containers running
//
// Each side has a private store under a temp dir (podman: --root/--runroot, cgroupfs, file
// events, its network configs in its own dir, and the whole of it inside a throwaway network
// namespace so that its bridge and port-map chains never reach the host; its default rlimits
// are above this sandbox's hard limits, so they are set explicitly). NODE_EXTRA_CA_CERTS is
// unset for everything (~60 ms per Node start here). A benchmark, not a test: it never fails on
// a time. Everything is removed at the end (mydocker's bridge and podman's namespace too).
//
// Usage: node test/bench/mydocker.mjs [--runs N] [--readme]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = realpathSync(new URL('../..', import.meta.url).pathname);
const NODE = realpathSync(process.execPath);
const MYDOCKER = join(REPO, 'dist/mydocker.js');
const RUNTIME = join(REPO, 'dist/mydocker-runc.js');
const ROOTFS = join(REPO, 'bundles/rootfs');
const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1] ?? '') || Number(process.env.BENCH_RUNS ?? '') || 10;
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;

const work = mkdtempSync(join(tmpdir(), 'mydocker-bench-'));
const mdRoot = join(work, 'md');
const NETNS = `mdkbench${process.pid}`;
const PM_NET = `mdkbench${process.pid}`;
const pm = (runtime) => ['--root', join(work, 'pm', 'root'), '--runroot', join(work, 'pm', 'run'), '--tmpdir', join(work, 'pm', 'tmp'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--network-config-dir', join(work, 'pm', 'net.d'), '--runtime', runtime];
const podmanIn = (runtime, args) => ['nsenter', `--net=/run/netns/${NETNS}`, '--', 'podman', ...pm(runtime), ...args];
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];
const PM_RUN = ['--network', 'none', ...ULIMITS];
const RUNC = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim();
const havePodman = spawnSync('podman', ['--version']).status === 0;
const PORT = 20000 + (process.pid % 10000);

const sides = [
  { name: 'mydocker', cmd: (args) => [NODE, MYDOCKER, '--root', mdRoot, ...args], runArgs: ['--network', 'none'], netArgs: ['-p', `${PORT}:80`], rmArgs: ['-f'] },
  // podman's rm -f stops with the stop signal and waits 10 s first; docker's (and ours) kills at once: -t 0.
  ...(havePodman && RUNC ? [{ name: 'podman (runc)', cmd: (args) => podmanIn(RUNC, args), runArgs: PM_RUN, netArgs: ['--network', PM_NET, '-p', `${PORT}:80`, ...ULIMITS], rmArgs: ['-f', '-t', '0'] }] : []),
  ...(havePodman ? [{ name: 'podman (mydocker-runc)', cmd: (args) => podmanIn(RUNTIME, args), runArgs: PM_RUN, netArgs: ['--network', PM_NET, '-p', `${PORT}:80`, ...ULIMITS], rmArgs: ['-f', '-t', '0'] }] : []),
];

function sh(cmd, check = true) {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (check && r.status !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r;
}

function timed(cmd) {
  const t0 = process.hrtime.bigint();
  sh(cmd);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function conmonRss() {
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.startsWith('/usr/bin/conmon') || !cmd.includes(work)) continue;
      const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (rss) out.push(Number(rss[1]));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The bridges of mydocker's bench root (its default network): they go with the root. */
function mdBridges() {
  const dir = join(mdRoot, 'networks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.conflist'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).plugins[0].bridge);
}

function cleanup() {
  for (const s of sides) sh(s.cmd(['rm', '-f', ...sh(s.cmd(['ps', '-aq']), false).stdout.trim().split('\n').filter(Boolean)]), false);
  if (havePodman) sh(podmanIn(RUNC || RUNTIME, ['system', 'reset', '-f']), false);
  for (const b of mdBridges()) sh(['ip', 'link', 'del', b], false);
  sh(['ip', 'netns', 'del', NETNS], false);
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((x) => x.split(' ')[4]).filter((m) => m && m.startsWith(work)).reverse()) {
    spawnSync('umount', ['-l', l]);
  }
  rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const results = {};
try {
  if (havePodman) {
    sh(['ip', 'netns', 'add', NETNS]);
    sh(['ip', 'netns', 'exec', NETNS, 'ip', 'link', 'set', 'lo', 'up']);
    const netd = join(work, 'pm', 'net.d');
    sh(['mkdir', '-p', netd]);
    writeFileSync(
      join(netd, `${PM_NET}.conflist`),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: PM_NET,
        plugins: [
          { type: 'bridge', bridge: 'mdkbenchbr', isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: '10.253.0.0/24' }]], dataDir: join(work, 'pm', 'ipam') } },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      }),
    );
    sh(['sh', '-c', `tar -C ${ROOTFS} -c . | podman ${pm(RUNC || RUNTIME).join(' ')} import - busybox`]);
  }
  sh(sides[0].cmd(['run', '--rm', 'busybox', 'true'])); // loads the embedded image, makes the default network
  for (const s of sides) for (let i = 0; i < 2; i++) sh(s.cmd(['run', '--rm', ...s.runArgs, 'busybox', 'true'])); // warm up
  for (const s of sides) sh(s.cmd(['run', '--rm', ...s.netArgs, 'busybox', 'true']));
  for (const s of sides) results[s.name] = { run: [], net: [], detached: [], rss: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const s of sides) results[s.name].run.push(timed(s.cmd(['run', '--rm', ...s.runArgs, 'busybox', 'true'])));
    for (const s of sides) results[s.name].net.push(timed(s.cmd(['run', '--rm', ...s.netArgs, 'busybox', 'true'])));
    for (const s of sides) {
      const t0 = process.hrtime.bigint();
      const id = sh(s.cmd(['run', '-d', ...s.runArgs, 'busybox', 'sleep', '60'])).stdout.trim();
      sh(s.cmd(['rm', ...s.rmArgs, id]));
      results[s.name].detached.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  for (const s of sides) {
    const ids = Array.from({ length: 5 }, () => sh(s.cmd(['run', '-d', ...s.runArgs, 'busybox', 'sleep', '60'])).stdout.trim());
    results[s.name].rss = conmonRss();
    sh(s.cmd(['rm', ...s.rmArgs, ...ids]));
  }
} finally {
  cleanup();
}

const base = results.mydocker;
const fmt = (ms) => `${ms.toFixed(0)} ms`;
const rows = [
  ['run --rm busybox true: wall', (r) => median(r.run), fmt],
  ['run --rm -p PORT:80 busybox true (bridge): wall', (r) => median(r.net), fmt],
  ['run -d + rm -f: wall', (r) => median(r.detached), fmt],
  ['resident per running container (monitor RSS)', (r) => (r.rss.length ? median(r.rss) : NaN), (k) => (Number.isNaN(k) ? 'n/a' : `${(k / 1024).toFixed(1)} MiB`)],
];
const header = ['figure', ...sides.map((s) => s.name), ...sides.slice(1).map((s) => `mydocker/${s.name}`)];
const lines = rows.map(([label, f, show]) => [
  label,
  ...sides.map((s) => show(f(results[s.name]))),
  ...sides.slice(1).map((s) => `${(f(base) / f(results[s.name])).toFixed(2)}×`),
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const table = [header, widths.map((w) => '-'.repeat(w)), ...lines].map((l) => `| ${l.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`).join('\n');
console.log(`\nmydocker vs podman (medians of ${RUNS} runs, alternating; NODE_EXTRA_CA_CERTS unset)\n\n${table}\n`);
console.log(`Each side has its own store; the first and third rows run without a network (--network none), the second on a bridge with a published port (mydocker's default network; podman's reference CNI chain in its own network namespace); podman with explicit ulimits. "resident" is the RSS of each conmon (one per running container) with 5 containers running; the containers' own processes are not counted.`);
if (argv.includes('--readme')) {
  const readme = join(REPO, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf('<!-- mydocker-bench -->');
  const end = text.indexOf('<!-- /mydocker-bench -->');
  if (start >= 0 && end > start) {
    writeFileSync(readme, `${text.slice(0, start)}<!-- mydocker-bench -->\n${table}\n${text.slice(end)}`);
  }
}
if (!existsSync(MYDOCKER)) process.exitCode = 1;
