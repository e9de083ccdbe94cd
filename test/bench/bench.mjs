#!/usr/bin/env node
// `make bench`: mydocker-runc side by side with Debian's runc, on the same busybox bundle and
// the same config, the two runtimes alternating run by run, medians over >= 20 runs each.
//
// How it measures (no hyperfine needed):
//   - every runtime invocation is started with posix_spawn(3) and reaped with wait4(2), both
//     through koffi (glibc's posix_spawn runs only C code in the child, so this is not a fork
//     from JavaScript). Wall time is hrtime around spawn..reap; CPU is wait4's rusage
//     (user + sys of the process and of every descendant it reaped: for `run`, the runtime and
//     the container's init and process);
//   - the bench is a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so the init that `create`
//     leaves behind is re-parented to us: the lifecycle waits for it with wait4 and adds its
//     rusage, and its ru_maxrss is the init's own peak RSS;
//   - peak RSS is measured apart from the timed runs: ru_maxrss of a process started by a big
//     parent includes that parent's RSS (vfork/fork + exec keeps the old image's high-water
//     mark), so each CLI is started under GNU time (/usr/bin/time -f %M, a small parent) and
//     its ru_maxrss is the largest process of its reaped tree; the init's own peak is its
//     VmHWM read from /proc while it waits on exec.fifo (after create, before start) — the
//     same moment for runc's init and ours;
//   - absolute paths for node and runc (no PATH lookup in the measured time); the cost of our
//     `#!/usr/bin/env node` shebang is measured on its own;
//   - NODE_EXTRA_CA_CERTS (and NODE_OPTIONS) are removed from both sides' environment: parsing
//     the CA bundle adds ~60 ms to every Node start on these machines, and a runtime never
//     speaks TLS.
// It is a benchmark, not a test: it never fails on a time. Everything it makes (state roots,
// containers, cgroups, bundles) is removed at the end, on error, and on SIGINT/SIGTERM.
//
// Usage: node test/bench/bench.mjs [--runs N] [--only run,lifecycle,stop,exec,memory,pids,scale,shebang]
//                              [--scale N] [--trace] [--readme]
//   --trace   print where our time goes in `run` (MYDOCKER_RUNC_TRACE=1 phase marks, medians)
//   --readme  also write the table into README.md's "Performance" section
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';

const REPO = realpathSync(new URL('../..', import.meta.url).pathname);
const CLI = join(REPO, 'dist/mydocker-runc.js');
const ROOTFS = join(REPO, 'bundles/rootfs');
const NODE = realpathSync(process.execPath);

// ---------------------------------------------------------------------------------------------
// Arguments

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const RUNS = Math.max(1, Number(opt('runs', process.env.BENCH_RUNS ?? '20')));
const RSS_RUNS = Math.max(1, Math.min(RUNS, 5));
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const WARMUP = 3;
const SCALE = Number(opt('scale', '50'));
const ALL = ['run', 'lifecycle', 'stop', 'exec', 'memory', 'pids', 'scale', 'shebang'];
const ONLY = new Set((opt('only', ALL.join(',')) ?? '').split(',').filter(Boolean));

if (process.getuid?.() !== 0) {
  console.error('bench: needs root (containers, cgroups, namespaces)');
  process.exit(2);
}
for (const [what, path] of [['dist/mydocker-runc.js (make build)', CLI], ['build/src/kernel/ffi.js (make build)', join(REPO, 'build/src/kernel/ffi.js')], ['bundles/rootfs (make rootfs)', join(ROOTFS, 'bin/busybox')]]) {
  if (!existsSync(path)) {
    console.error(`bench: missing ${what}`);
    process.exit(2);
  }
}
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'].find((p) => existsSync(p));

// The one door to the kernel, as built: koffi stays behind src/kernel/.
const { koffi, libcFn } = await import(join(REPO, 'build/src/kernel/ffi.js'));

// ---------------------------------------------------------------------------------------------
// Processes: posix_spawn + wait4, with rusage

const timeval = koffi.struct('bench_timeval', { sec: 'long', usec: 'long' });
const rusageT = koffi.struct('bench_rusage', {
  utime: timeval,
  stime: timeval,
  maxrss: 'long',
  ixrss: 'long',
  idrss: 'long',
  isrss: 'long',
  minflt: 'long',
  majflt: 'long',
  nswap: 'long',
  inblock: 'long',
  oublock: 'long',
  msgsnd: 'long',
  msgrcv: 'long',
  nsignals: 'long',
  nvcsw: 'long',
  nivcsw: 'long',
});
const posixSpawn = libcFn('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)');
const faInit = libcFn('int posix_spawn_file_actions_init(void *fa)');
const faDestroy = libcFn('int posix_spawn_file_actions_destroy(void *fa)');
const faOpen = libcFn('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int flags, uint32 mode)');
const attrInit = libcFn('int posix_spawnattr_init(void *attr)');
const attrFlags = libcFn('int posix_spawnattr_setflags(void *attr, short flags)');
const attrSigmask = libcFn('int posix_spawnattr_setsigmask(void *attr, void *set)');
const attrSigdef = libcFn('int posix_spawnattr_setsigdefault(void *attr, void *set)');
const sigemptyset = libcFn('int sigemptyset(void *set)');
const sigfillset = libcFn('int sigfillset(void *set)');
const wait4 = libcFn('int wait4(int pid, _Out_ int *status, int options, _Out_ bench_rusage *ru)');
const prctl = libcFn('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const killFn = libcFn('int kill(int pid, int sig)');

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const O_RDONLY = 0;
const O_WRONLY_CREAT_TRUNC = 0o1 | 0o100 | 0o1000;
const WNOHANG = 1;
const EINTR = 4;
const ECHILD = 10;

// The init a detached `create` leaves behind becomes our child, so that we can wait for it.
prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0);

// Node ignores SIGPIPE; the children get every signal back at its default, and no mask.
const attr = Buffer.alloc(1024);
const sigset = Buffer.alloc(128);
attrInit(attr);
attrFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
sigemptyset(sigset);
attrSigmask(attr, sigset);
sigfillset(sigset);
attrSigdef(attr, sigset);

const CHILD_ENV = Object.entries(process.env)
  .filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS' && k !== 'NODE_OPTIONS' && k !== 'MYDOCKER_RUNC_TRACE' && !k.startsWith('NODE_TEST'))
  .map(([k, v]) => `${k}=${v}`);

function statusOf(raw) {
  const sig = raw & 0x7f;
  return sig === 0 ? { code: (raw >> 8) & 0xff, signal: 0 } : { code: 128 + sig, signal: sig };
}

function usage(ru) {
  return {
    cpuMs: (ru.utime.sec + ru.stime.sec) * 1000 + (ru.utime.usec + ru.stime.usec) / 1000,
    maxrssKiB: ru.maxrss,
  };
}

/** wait4, retrying EINTR; `poll` waits with WNOHANG and a deadline instead of blocking. */
function reap(pid, timeoutMs) {
  const status = [0];
  const ru = {};
  const deadline = timeoutMs ? Date.now() + timeoutMs : 0;
  const sab = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const r = wait4(pid, status, timeoutMs ? WNOHANG : 0, ru);
    if (r === pid) return { ...statusOf(status[0]), ...usage(ru) };
    if (r < 0) {
      const e = koffi.errno();
      if (e === EINTR) continue;
      if (e === ECHILD) return null;
      throw new Error(`wait4 ${pid}: errno ${e}`);
    }
    if (Date.now() > deadline) {
      killFn(pid, 9);
      const res = reap(pid, 0);
      return res && { ...res, timedOut: true };
    }
    Atomics.wait(sab, 0, 0, 2);
  }
}

/** Reap every exited child (inits of containers we deleted), without blocking. */
function reapZombies() {
  const status = [0];
  const ru = {};
  while (wait4(-1, status, WNOHANG, ru) > 0);
}

/** VmHWM of a live process (its peak RSS since its last execve), KiB. */
function vmHwm(pid) {
  try {
    return Number(/VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** ru_maxrss of `cmd` started by GNU time (a small parent, so that the figure is cmd's own), KiB. */
function timed(cmd) {
  if (!TIME) return NaN;
  const file = join(WORK, 'rss');
  const res = run([TIME, '-f', '%M', '-o', file, ...cmd], { blocking: false, timeoutMs: 60_000 });
  if (res.code !== 0) return NaN;
  return Number(readFileSync(file, 'utf8').trim().split('\n').pop());
}

/** Median peak RSS (KiB) of RSS_RUNS runs of cmdFor(runtime), per runtime, alternating. */
function peakRss(cmdFor) {
  const out = Object.fromEntries(runtimes.map((r) => [r.name, []]));
  for (let i = 0; i < RSS_RUNS && TIME; i++) {
    for (const r of runtimes) {
      const cmd = cmdFor(r);
      out[r.name].push(timed(cmd));
    }
  }
  return Object.fromEntries(Object.entries(out).map(([n, xs]) => [n, median(xs.filter(Number.isFinite))]));
}

/**
 * Run argv[0] (an absolute path) to completion. stdout/stderr go to files (or /dev/null).
 * Returns { code, signal, wallMs, cpuMs, maxrssKiB, stdout, stderr }.
 */
function run(cmd, { env = CHILD_ENV, timeoutMs = 120_000, blocking = true, capture = true } = {}) {
  const fa = Buffer.alloc(1024);
  faInit(fa);
  const out = join(WORK, 'out');
  const err = join(WORK, 'err');
  try {
    faOpen(fa, 0, '/dev/null', O_RDONLY, 0);
    faOpen(fa, 1, capture ? out : '/dev/null', O_WRONLY_CREAT_TRUNC, 0o644);
    faOpen(fa, 2, capture ? err : '/dev/null', O_WRONLY_CREAT_TRUNC, 0o644);
    const pid = [0];
    const t0 = process.hrtime.bigint();
    const rc = posixSpawn(pid, cmd[0], fa, attr, [...cmd, null], [...env, null]);
    if (rc !== 0) throw new Error(`posix_spawn ${cmd[0]}: errno ${rc}`);
    const res = reap(pid[0], blocking ? 0 : timeoutMs);
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    return {
      ...res,
      wallMs,
      stdout: capture ? readFileSync(out, 'utf8') : '',
      stderr: capture ? readFileSync(err, 'utf8') : '',
    };
  } finally {
    faDestroy(fa);
  }
}

// ---------------------------------------------------------------------------------------------
// Work area, runtimes, cleanup

const WORK = mkdtempSync('/tmp/mydocker-bench-');
const TAG = `mydocker-bench-${process.pid}`;
let seq = 0;
const newId = (what) => `${TAG}-${what}-${++seq}`;

const runtimes = [];
if (RUNC) runtimes.push({ name: 'runc', argv: [RUNC], root: join('/run', `${TAG}-runc`) });
runtimes.push({ name: 'ours', argv: [NODE, CLI], root: join('/run', `${TAG}-ours`) });
const live = []; // [runtime, id] of containers that may exist

const rt = (r, ...args) => [...r.argv, '--root', r.root, ...args];

function cleanup() {
  for (const [r, id] of live.splice(0)) run(rt(r, 'delete', '--force', id), { blocking: false, timeoutMs: 30_000 });
  reapZombies();
  // A runtime that died mid-create can leave a cgroup named after the id: ours, remove them.
  for (const dir of findCgroups('/sys/fs/cgroup', 6).reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      /* still busy: reported below */
    }
  }
  const left = findCgroups('/sys/fs/cgroup', 6);
  if (left.length) console.error(`bench: cgroups left behind: ${left.join(', ')}`);
  for (const r of runtimes) rmSync(r.root, { recursive: true, force: true });
  rmSync(WORK, { recursive: true, force: true });
}

function findCgroups(dir, depth) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    if (e.name.startsWith(TAG)) out.push(p, ...findCgroups(p, depth - 1));
    else if (depth > 1) out.push(...findCgroups(p, depth - 1));
  }
  return out;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    interrupted = true;
  });
}
/** Let signal handlers run between measurements; stop cleanly when one arrived. */
async function checkpoint() {
  await new Promise((resolve) => setImmediate(resolve));
  if (interrupted) throw new Error('interrupted');
}

// ---------------------------------------------------------------------------------------------
// Bundles: one config for both runtimes (bundles/busybox/config.json, rootfs made absolute)

const baseConfig = JSON.parse(readFileSync(join(REPO, 'bundles/busybox/config.json'), 'utf8'));
baseConfig.root.path = ROOTFS;

function bundle(name, args, edit = (c) => c) {
  const dir = join(WORK, `bundle-${name}`);
  mkdirSync(dir, { recursive: true });
  const config = structuredClone(baseConfig);
  config.process.args = args;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(edit(config), null, 2));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table

const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
const kib = (v) => (!Number.isFinite(v) ? 'n/a' : v >= 10240 ? `${(v / 1024).toFixed(1)} MiB` : `${Math.round(v)} KiB`);
const rows = []; // [figure, runc, ours, ratio]
const shortRows = new Set(); // the rows README.md's Performance section shows
let short = false;
function row(figure, runc, ours, ratio) {
  rows.push([figure, runc, ours, ratio]);
  if (short) shortRows.add(rows.length - 1);
}
/** Rows added inside fn() also go to the short table. */
function inShort(fn) {
  short = true;
  try {
    fn();
  } finally {
    short = false;
  }
}
function ratioOf(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `${(b / a).toFixed(2)}×` : '';
}
function numRow(figure, vals, fmt = ms) {
  row(figure, fmt(vals.runc), fmt(vals.ours), ratioOf(vals.runc, vals.ours));
}
const notes = [];

function fail(r, what, res) {
  const msg = `${r.name}: ${what} failed (exit ${res?.code}${res?.timedOut ? ', timed out' : ''}): ${(res?.stderr ?? '').trim().split('\n').pop()}`;
  throw new Error(msg);
}

/** Alternate the runtimes (runc first on even runs, ours first on odd ones), WARMUP + RUNS times. */
async function alternate(fn) {
  const samples = Object.fromEntries(runtimes.map((r) => [r.name, []]));
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const order = i % 2 ? [...runtimes].reverse() : runtimes;
    for (const r of order) {
      const s = fn(r);
      if (i >= WARMUP) samples[r.name].push(s);
      await checkpoint();
    }
  }
  return samples;
}
const med = (samples, key) => Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs.map((x) => x[key]))]));

// ---------------------------------------------------------------------------------------------
// The figures

async function benchRun() {
  const b = bundle('true', ['/bin/true']);
  const samples = await alternate((r) => {
    const id = newId('run');
    live.push([r, id]);
    const res = run(rt(r, 'run', '--bundle', b, id));
    if (res.code !== 0) fail(r, 'run /bin/true', res);
    live.pop();
    return res;
  });
  inShort(() => {
    numRow('run /bin/true: wall', med(samples, 'wallMs'));
    numRow('run /bin/true: CPU user+sys, whole tree', med(samples, 'cpuMs'));
  });
  numRow('run: peak RSS, largest process', peakRss((r) => rt(r, 'run', '--bundle', b, newId('rss'))), kib);
}

async function benchLifecycle() {
  const b = bundle('true', ['/bin/true']);
  const pidFile = join(WORK, 'init.pid');
  const samples = await alternate((r) => {
    const id = newId('life');
    live.push([r, id]);
    rmSync(pidFile, { force: true });
    const c = run(rt(r, 'create', '--bundle', b, '--pid-file', pidFile, id));
    if (c.code !== 0) fail(r, 'create', c);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const initHwm = vmHwm(pid);
    const s = run(rt(r, 'start', id));
    if (s.code !== 0) fail(r, 'start', s);
    const t0 = process.hrtime.bigint();
    const init = reap(pid, 30_000);
    const waitMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!init) throw new Error(`${r.name}: the init ${pid} was not re-parented to the bench`);
    const d = run(rt(r, 'delete', id));
    if (d.code !== 0) fail(r, 'delete', d);
    live.pop();
    return {
      total: c.wallMs + s.wallMs + waitMs + d.wallMs,
      create: c.wallMs,
      start: s.wallMs,
      wait: waitMs,
      del: d.wallMs,
      cpu: c.cpuMs + s.cpuMs + init.cpuMs + d.cpuMs,
      rssInit: initHwm,
    };
  });
  inShort(() => numRow('lifecycle create+start+wait+delete: wall', med(samples, 'total')));
  numRow('  create', med(samples, 'create'));
  numRow('  start', med(samples, 'start'));
  numRow('  wait for exit', med(samples, 'wait'));
  numRow('  delete', med(samples, 'del'));
  numRow('lifecycle: CPU user+sys (create, start, init, delete)', med(samples, 'cpu'));
  // The CLIs' peaks, one verb at a time (create's init is not its reaped child: the CLI alone).
  const rss = { create: {}, start: {}, del: {} };
  for (let i = 0; i < RSS_RUNS && TIME; i++) {
    for (const r of runtimes) {
      const id = newId('rss');
      live.push([r, id]);
      rmSync(pidFile, { force: true });
      const c = timed(rt(r, 'create', '--bundle', b, '--pid-file', pidFile, id));
      const initPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
      const s = timed(rt(r, 'start', id));
      if (initPid > 0) reap(initPid, 30_000);
      const d = timed(rt(r, 'delete', '--force', id));
      live.pop();
      for (const [k, v] of [['create', c], ['start', s], ['del', d]]) (rss[k][r.name] ??= []).push(v);
      await checkpoint();
    }
  }
  const medRss = (k) => Object.fromEntries(Object.entries(rss[k]).map(([n, xs]) => [n, median(xs)]));
  inShort(() => {
    numRow('peak RSS: create (the CLI process)', medRss('create'), kib);
    numRow('peak RSS: init, waiting on exec.fifo (VmHWM)', med(samples, 'rssInit'), kib);
  });
  numRow('peak RSS: start', medRss('start'), kib);
  numRow('peak RSS: delete', medRss('del'), kib);
}

/**
 * Stopping and removing a running container, as containerd's shim does after `crictl stop`:
 * `kill <id> KILL`, the init's exit (reaped by us, its subreaper, as the shim would), then
 * `delete <id>`. (A sleep as PID 1 ignores TERM, so the shim's SIGKILL after the timeout is
 * the signal that ends it; the timeout itself is the client's, not the runtime's.)
 */
async function benchStop() {
  const b = bundle('sleep', ['sleep', '1000000']);
  const pidFile = join(WORK, 'stop.pid');
  const samples = await alternate((r) => {
    const id = newId('stop');
    live.push([r, id]);
    rmSync(pidFile, { force: true });
    const c = run(rt(r, 'run', '--detach', '--pid-file', pidFile, '--bundle', b, id));
    if (c.code !== 0) fail(r, 'run --detach sleep', c);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const k = run(rt(r, 'kill', id, 'KILL'));
    if (k.code !== 0) fail(r, 'kill KILL', k);
    const t0 = process.hrtime.bigint();
    if (!reap(pid, 30_000)) throw new Error(`${r.name}: the init ${pid} was not re-parented to the bench`);
    const waitMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const d = run(rt(r, 'delete', id));
    if (d.code !== 0) fail(r, 'delete', d);
    live.pop();
    return { total: k.wallMs + waitMs + d.wallMs, kill: k.wallMs, wait: waitMs, del: d.wallMs };
  });
  inShort(() => numRow('stop+delete a running container (kill KILL, exit, delete): wall', med(samples, 'total')));
  numRow('  kill KILL', med(samples, 'kill'));
  numRow('  the init exits', med(samples, 'wait'));
  numRow('  delete', med(samples, 'del'));
}

function oursHasVerb(verb) {
  const r = runtimes.find((x) => x.name === 'ours');
  const res = run([...r.argv, verb, '--help']);
  return res.code === 0 && /usage/i.test(res.stdout + res.stderr);
}

async function benchExec() {
  if (!oursHasVerb('exec')) {
    inShort(() => row('exec /bin/true into a running container: wall', 'n/a (no exec yet)', 'n/a (no exec yet)', ''));
    return;
  }
  const b = bundle('sleep', ['sleep', '1000000']);
  const ids = {};
  for (const r of runtimes) {
    const id = newId('exec');
    live.push([r, id]);
    const res = run(rt(r, 'run', '--detach', '--bundle', b, id));
    if (res.code !== 0) fail(r, 'run --detach sleep', res);
    ids[r.name] = id;
  }
  const samples = await alternate((r) => {
    const res = run(rt(r, 'exec', ids[r.name], '/bin/true'));
    if (res.code !== 0) fail(r, 'exec /bin/true', res);
    return res;
  });
  inShort(() => numRow('exec /bin/true into a running container: wall', med(samples, 'wallMs')));
  numRow('exec: CPU user+sys, whole tree', med(samples, 'cpuMs'));
  numRow('exec: peak RSS, largest process', peakRss((r) => rt(r, 'exec', ids[r.name], '/bin/true')), kib);
  for (const r of runtimes) run(rt(r, 'delete', '--force', ids[r.name]));
  live.length = 0;
  reapZombies();
}

/** Does this runtime apply a cgroup limit? Read it back from inside the container. */
function limitApplied(r, edit, file, expected) {
  const b = bundle(`probe-${r.name}`, ['sh', '-c', `cat ${file.map((f) => `/sys/fs/cgroup/${f}`).join(' ')}; true`], edit);
  const id = newId('probe');
  live.push([r, id]);
  const res = run(rt(r, 'run', '--bundle', b, id), { blocking: false, timeoutMs: 30_000 });
  run(rt(r, 'delete', '--force', id));
  live.pop();
  return res.code === 0 && res.stdout.split('\n').some((l) => l.trim() === expected);
}

function echoHi(r, edit) {
  const b = bundle(`echo-${r.name}`, ['echo', 'hi'], edit);
  const id = newId('floor');
  live.push([r, id]);
  const res = run(rt(r, 'run', '--bundle', b, id), { blocking: false, timeoutMs: 30_000 });
  if (res.code !== 0 || res.timedOut) run(rt(r, 'delete', '--force', id), { blocking: false, timeoutMs: 30_000 });
  live.pop();
  reapZombies();
  return { ok: res.code === 0 && res.stdout === 'hi\n', res };
}

const withMemory = (limit) => (c) => ({ ...c, linux: { ...c.linux, resources: { ...c.linux.resources, memory: { limit } } } });
const withPids = (limit) => (c) => ({ ...c, linux: { ...c.linux, resources: { ...c.linux.resources, pids: { limit } } } });

async function benchMemory() {
  const K = 1024;
  const lo = 128 * K;
  const hi = 64 * K * K;
  const step = 64 * K;
  const out = {};
  for (const r of runtimes) {
    if (!limitApplied(r, withMemory(hi), ['memory/memory.limit_in_bytes', 'memory.max'], String(hi))) {
      out[r.name] = { text: 'n/a (memory limit not applied)' };
      continue;
    }
    // Smallest k with echo hi working at lo + k*step (assumed monotonic), by bisection.
    let a = 0;
    let b = (hi - lo) / step;
    if (!echoHi(r, withMemory(hi)).ok) {
      out[r.name] = { text: 'fails at 64 MiB' };
      continue;
    }
    if (echoHi(r, withMemory(lo)).ok) {
      out[r.name] = { value: lo / K, text: `≤ ${kib(lo / K)}` };
      continue;
    }
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (echoHi(r, withMemory(lo + m * step)).ok) b = m;
      else a = m;
      await checkpoint();
    }
    out[r.name] = { value: (lo + b * step) / K };
  }
  const text = (n) => out[n]?.text ?? kib(out[n]?.value);
  inShort(() => row('memory floor: smallest memory.limit for echo hi', text('runc'), text('ours'), ratioOf(out.runc?.value, out.ours?.value)));
}

async function benchPids() {
  const out = {};
  for (const r of runtimes) {
    if (!limitApplied(r, withPids(64), ['pids/pids.max', 'pids.max'], '64')) {
      out[r.name] = 'n/a (pids limit not applied)';
      continue;
    }
    const { ok, res } = echoHi(r, withPids(1));
    out[r.name] = ok ? 'works' : `fails (${(res.stderr.trim().split('\n').pop() ?? '').slice(0, 60) || `exit ${res.code}`})`;
  }
  inShort(() => row('pids.limit = 1: echo hi', out.runc ?? 'n/a', out.ours ?? 'n/a', ''));
}

/**
 * Runtime processes alive while only containers run (no CLI call in flight): ours are Node
 * processes running this build's dist/ (a CLI or an init that has not exec'd); runc's are
 * processes of the runc binary started for our state root or in our containers' cgroups.
 */
function residentRuntimes(ids) {
  const count = { runc: 0, ours: 0 };
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let exe;
    let cmdline;
    let cgroup;
    try {
      exe = realpathSync(`/proc/${pid}/exe`);
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue; // gone, or a kernel thread
    }
    if (exe === NODE && cmdline.includes(join(REPO, 'dist/'))) count.ours++;
    const runcRoot = runtimes.find((r) => r.name === 'runc')?.root;
    if (RUNC && exe === realpathSync(RUNC) && ((runcRoot && cmdline.includes(runcRoot)) || (ids.runc ?? []).some((id) => cgroup.includes(id)))) count.runc++;
  }
  const per = (name) => (ids[name] ? `${count[name] / ids[name].length} (${count[name]} for ${ids[name].length})` : undefined);
  return { runc: per('runc'), ours: per('ours') };
}

async function benchScale() {
  const b = bundle('sleep', ['sleep', '1000000']);
  const bt = bundle('true', ['/bin/true']);
  const ids = Object.fromEntries(runtimes.map((r) => [r.name, []]));
  const start = async (n) => {
    for (const r of runtimes) {
      while (ids[r.name].length < n) {
        const id = newId('scale');
        live.push([r, id]);
        const res = run(rt(r, 'run', '--detach', '--bundle', b, id));
        if (res.code !== 0) fail(r, 'run --detach sleep', res);
        ids[r.name].push(id);
        await checkpoint();
      }
    }
  };
  const measure = async () => {
    const s = await alternate((r) => {
      const l = run(rt(r, 'list'));
      if (l.code !== 0) fail(r, 'list', l);
      const st = run(rt(r, 'state', ids[r.name][0]));
      if (st.code !== 0) fail(r, 'state', st);
      const id = newId('extra');
      live.push([r, id]);
      const c = run(rt(r, 'create', '--bundle', bt, id));
      if (c.code !== 0) fail(r, 'create', c);
      run(rt(r, 'delete', '--force', id));
      live.pop();
      reapZombies();
      return { list: l.wallMs, state: st.wallMs, create: c.wallMs };
    });
    return { list: med(s, 'list'), state: med(s, 'state'), create: med(s, 'create') };
  };
  await start(1);
  const one = await measure();
  await start(SCALE);
  const resident = residentRuntimes(ids);
  const many = await measure();
  for (const k of ['list', 'state', 'create']) {
    numRow(`${k} with 1 container running`, one[k]);
    numRow(`${k} with ${SCALE} containers running`, many[k]);
  }
  const growth = (k) => Object.fromEntries(runtimes.map((r) => [r.name, many[k][r.name] / one[k][r.name]]));
  inShort(() => {
    for (const k of ['state', 'create']) {
      const g = growth(k);
      row(`${k}: with ${SCALE} running vs with 1`, g.runc ? `${g.runc.toFixed(2)}×` : 'n/a', `${g.ours.toFixed(2)}×`, '');
    }
    row(`runtime processes left per running container (${SCALE} running)`, resident.runc ?? 'n/a', resident.ours ?? 'n/a', '');
  });
  for (const r of runtimes) {
    for (const id of ids[r.name]) run(rt(r, 'delete', '--force', id));
  }
  live.length = 0;
  reapZombies();
}

async function benchShebang() {
  const r = runtimes.find((x) => x.name === 'ours');
  const samples = { abs: [], env: [] };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const a = run([NODE, CLI, '--version']);
    const e = run([CLI, '--version']);
    if (a.code !== 0 || e.code !== 0) fail(r, '--version', a.code ? a : e);
    if (i >= WARMUP) {
      samples.abs.push(a.wallMs);
      samples.env.push(e.wallMs);
    }
    await checkpoint();
  }
  const shebang = readFileSync(CLI, 'utf8').split('\n', 1)[0];
  row(`ours --version: ${NODE} dist/mydocker-runc.js`, '', ms(median(samples.abs)), '');
  row(`ours --version: ./dist/mydocker-runc.js (${shebang})`, '', ms(median(samples.env)), '');
  notes.push(`shebang: executing dist/mydocker-runc.js through "${shebang}" costs ${(median(samples.env) - median(samples.abs)).toFixed(1)} ms over ${NODE} directly (median of ${RUNS}); the bench runs ours as "${NODE} dist/mydocker-runc.js".`);
}

/** Where our time goes in one `run`: MYDOCKER_RUNC_TRACE=1 marks of the CLI and the init, medians. */
async function traceRun() {
  const r = runtimes.find((x) => x.name === 'ours');
  const b = bundle('true', ['/bin/true']);
  return tracePhases((id) => rt(r, 'run', '--bundle', b, id), 'run', true);
}

/** Where our time goes in `exec /bin/true` into a running container. */
async function traceExec() {
  const r = runtimes.find((x) => x.name === 'ours');
  const id = newId('trace-exec');
  live.push([r, id]);
  const res = run(rt(r, 'run', '--detach', '--bundle', bundle('sleep', ['sleep', '1000000']), id));
  if (res.code !== 0) fail(r, 'run --detach sleep', res);
  try {
    return await tracePhases(() => rt(r, 'exec', id, '/bin/true'), 'exec', false);
  } finally {
    run(rt(r, 'delete', '--force', id));
    live.pop();
    reapZombies();
  }
}

async function tracePhases(cmdFor, what, track) {
  const r = runtimes.find((x) => x.name === 'ours');
  const phases = new Map();
  const peaks = new Map();
  for (let i = 0; i < Math.max(5, Math.min(RUNS, 11)); i++) {
    const id = newId('trace');
    if (track) live.push([r, id]);
    const res = run(cmdFor(id), { env: [...CHILD_ENV, 'MYDOCKER_RUNC_TRACE=1'] });
    if (track) live.pop();
    if (res.code !== 0) fail(r, `traced ${what}`, res);
    const lines = res.stderr
      .split('\n')
      .map((l) => /^mydocker-runc trace (\S+) (\d+) (\S+) (.*)$/.exec(l))
      .filter(Boolean)
      .map((m) => ({ t: Number(m[1]), who: m[3], phase: m[4] }))
      .sort((x, y) => x.t - y.t);
    if (!lines.length) return ['(no trace lines: this build has no MYDOCKER_RUNC_TRACE support)'];
    const t0 = lines[0].t;
    const seen = new Map();
    for (const l of lines) {
      const rss = /^peak rss (\d+) kB \((.*)\)$/.exec(l.phase);
      if (rss) {
        const key = `${l.who} ${rss[2]}`;
        if (!peaks.has(key)) peaks.set(key, []);
        peaks.get(key).push(Number(rss[1]));
        continue;
      }
      let key = `${l.who.padEnd(4)} ${l.phase}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n > 1) key += ` #${n}`;
      if (!phases.has(key)) phases.set(key, []);
      phases.get(key).push(l.t - t0);
    }
    await checkpoint();
  }
  const out = [...phases].map(([k, xs]) => ({ k, t: median(xs) })).sort((a, b) => a.t - b.t);
  let prev = 0;
  const lines = out.map(({ k, t }) => {
    const line = `${t.toFixed(1).padStart(7)} ms  +${(t - prev).toFixed(1).padStart(5)}  ${k}`;
    prev = t;
    return line;
  });
  for (const [k, xs] of peaks) lines.push(`peak RSS of the ${k}: ${kib(median(xs))}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------

function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  let runcVersion = 'not installed';
  if (RUNC) runcVersion = run([RUNC, '--version']).stdout.split('\n')[0].replace(/^runc version /, '');
  return `${cpu}, ${cpus().length} cores, Linux ${release()}, node ${process.version} (${NODE}), runc ${runcVersion} (${RUNC ?? '-'})`;
}

function table(which = rows) {
  const head = ['figure', 'runc', 'ours', 'ours/runc'];
  const w = head.map((h, i) => Math.max(h.length, ...which.map((r) => String(r[i]).length)));
  const fmt = (r) => `| ${r.map((c, i) => String(c).padEnd(w[i])).join(' | ')} |`;
  return [fmt(head), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...which.map(fmt)].join('\n');
}

function writeReadme(text) {
  const path = join(REPO, 'README.md');
  const section = `## Performance\n\n${text}\n`;
  let readme = existsSync(path) ? readFileSync(path, 'utf8') : '';
  // Up to the next heading ("### mydocker vs podman" belongs to test/bench/mydocker.mjs).
  const re = /^## Performance\n[\s\S]*?(?=^##+ |(?![\s\S]))/m;
  readme = re.test(readme) ? readme.replace(re, `${section}\n`) : `${readme.replace(/\n*$/, readme ? '\n\n' : '')}${section}`;
  writeFileSync(path, readme.replace(/\n+$/, '\n'));
}

let code = 0;
try {
  const info = machine();
  console.log(`mydocker-runc bench: ${info}`);
  console.log(`runs: ${RUNS} per runtime per figure (after ${WARMUP} warm-up runs), alternating; NODE_EXTRA_CA_CERTS unset for both sides\n`);
  if (!RUNC) notes.push('runc is not installed: only our column is measured (apt-get install runc).');
  const steps = { run: benchRun, lifecycle: benchLifecycle, stop: benchStop, exec: benchExec, memory: benchMemory, pids: benchPids, scale: benchScale, shebang: benchShebang };
  for (const name of ALL) {
    if (!ONLY.has(name)) continue;
    process.stderr.write(`bench: ${name}...\n`);
    await steps[name]();
  }
  let traced = [];
  let tracedExec = [];
  if (flag('trace')) {
    traced = await traceRun();
    tracedExec = await traceExec();
  }
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const lines = [
    `Measured ${when} by \`make bench\` (test/bench/bench.mjs) on: ${info}.`,
    '',
    table(),
    '',
    `Medians of ${RUNS} runs per runtime, the two alternating, on the same bundle (bundles/busybox config, busybox rootfs).`,
    'Wall: spawn to reap. CPU: user+sys from wait4(2) rusage of the runtime and every process it reaped (for the lifecycle, plus the init that the bench reaps as subreaper).',
    `Peak RSS: ru_maxrss under GNU time (median of ${RSS_RUNS}; the largest process of the tree the command reaps), and the init's VmHWM while it waits for start.`,
    'NODE_EXTRA_CA_CERTS is unset for both sides (it adds ~60 ms to every Node start here).',
    ...notes,
  ];
  console.log(lines.join('\n'));
  if (traced.length) console.log(`\nWhere our time goes in \`run /bin/true\` (MYDOCKER_RUNC_TRACE=1, medians, ms since the CLI process started):\n${traced.join('\n')}`);
  if (tracedExec.length) console.log(`\nWhere our time goes in \`exec /bin/true\` into a running container (the same way):\n${tracedExec.join('\n')}`);
  if (flag('readme')) {
    const ratioOf = (figure) => rows.find((r) => r[0] === figure)?.[3] || 'n/a';
    const firstMs = traced.map((l) => /^\s*([\d.]+) ms .*first module/.exec(l)?.[1]).find(Boolean);
    const firstLine = firstMs ? `~${Math.round(Number(firstMs))} ms here` : 'most of it';
    writeReadme(
      [
        `\`make bench\` (test/bench/bench.mjs) runs mydocker-runc and Debian's runc side by side on the busybox bundle, with the same config, the two alternating run by run; it prints the full table and how each figure is measured. Latest figures (${when}, medians of ${RUNS} runs, NODE_EXTRA_CA_CERTS unset for both sides) on ${info}:`,
        '',
        table(rows.filter((_, i) => shortRows.has(i))),
        '',
        'On a shared machine the absolute figures move by 10-20 % from one run to the next; the ratios are steadier.',
        '',
        `The init is native (C): from the plan to \`ready\` takes it ~5 ms, and a waiting init is ~1.4 MiB. Its one slow step is joining the cgroup: one migration per hierarchy, and the first waits for an RCU grace period unless one has just passed — the runtime starts one (a no-op migration of its own) as early as it can, which works best for \`create\` and only partly for \`exec\` (compare the two joins below). What stays is one Node start-up per CLI call: ${firstLine} before the first line of ours runs, then ~5 ms loading our code from its V8 code cache and parsing arguments, then the work (create: ~10-20 ms of TypeScript, half of it validating, the cgroups and the plan). That is why \`start\`, \`kill\` and \`delete\` cost ~6× runc's few milliseconds each, and why \`run\` (${ratioOf('run /bin/true: wall')}) and \`exec\` (${ratioOf('exec /bin/true into a running container: wall')}) miss the 1.5× target: the Node start-up alone is about runc's whole \`run\`. \`MYDOCKER_RUNC_TRACE=1\` makes the CLI and the init print phase timestamps (or \`=/file\`: appended there); \`make bench BENCH_FLAGS=--trace\` prints their medians` + (traced.length ? ', measured in the same run:' : '.'),
        ...(traced.length ? ['', '`run /bin/true`:', '', '```', ...traced, '```'] : []),
        ...(tracedExec.length ? ['', '`exec /bin/true` into a running container:', '', '```', ...tracedExec, '```'] : []),
      ].join('\n'),
    );
  }
} catch (e) {
  console.error(`bench: ${e.message}`);
  code = 1;
} finally {
  cleanup();
}
process.exit(code);
