// docker's HEALTHCHECK without a daemon. docker runs a goroutine per container in dockerd;
// mydocker has no process that outlives a command except the container's conmon, so each
// container with a healthcheck gets a checker started with it: a /bin/sh loop (~1 MiB
// resident, in its own process group) that sleeps the interval, then runs one probe,
// `mydocker container healthcheck <id>` (a short-lived Node process: the test command through
// the exec machinery, with the timeout; the result recorded in <container>/health.json, docker's
// .State.Health, under <container>/health.lock). The probe prints the next sleep (docker's start
// interval during the start period while starting, else the interval), or nothing — and the
// loop ends — when the container no longer runs, is gone, or the checker is not its current one.
//
// The checker's pid (its process group) is kept in <container>/health.pid; the cleanup after an
// exit, a (re)start and every removal kill the whole group (sh, its sleep, a probe in flight).
// A checker that nobody killed (mydocker killed -9 at the wrong time) still ends by itself at its
// next wake-up: its container's record is gone, or its probe finds the container not running.
//
// Status, as docker: "starting" at each start (FailingStreak 0, the log kept), "healthy" after a
// passing probe, "unhealthy" after Retries consecutive failures — failures that start within the
// start period while still starting do not count; "unhealthy" once the container stops or is
// paused (docker closes its monitor then; the log is kept).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../../container/store.js';
import type { Engine } from '../engine.js';
import { InputError } from '../errors.js';
import { emitContainer } from '../events/journal.js';
import { lockSync } from '../fs/locks.js';
import type { ContainerRecord } from './record.js';
import { liveState } from './status.js';

/** docker's HealthConfig (container and image config): durations in nanoseconds, 0 = inherit/default. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** docker's .State.Health. */
export interface Health {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

/** On disk: the health of one run (Run: its StartedAt, so a late probe never lands on the next run). */
interface HealthFile extends Health {
  Run: string;
}

const SECOND = 1e9;
export const DEFAULTS = { Interval: 30 * SECOND, Timeout: 30 * SECOND, StartPeriod: 0, StartInterval: 5 * SECOND, Retries: 3 };
/** docker's MinimumDuration for every healthcheck duration other than 0. */
export const MIN_DURATION = 1e6;
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

// ---------------------------------------------------------------------------------------------
// Durations, as Go's time.ParseDuration and Duration.String (what docker's flags take and print).

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration → nanoseconds; null when it is not one ("banana", "10"). */
export function parseGoDuration(value: string): number | null {
  let s = value;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return null;
  let total = 0;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (s) {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return null;
    const unit = UNITS[m[3]!]!;
    total += Number(m[1] || '0') * unit + (m[2] ? Math.trunc(Number(`0.${m[2]}`) * unit) : 0);
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** digits of v/div with the fraction's trailing zeros dropped (Go's fmtFrac + fmtInt). */
function frac(v: number, div: number): string {
  const whole = Math.floor(v / div);
  const rest = v - whole * div;
  if (!rest) return String(whole);
  const width = String(div).length - 1;
  return `${whole}.${String(rest).padStart(width, '0').replace(/0+$/, '')}`;
}

/** Go's Duration.String: "30s", "500ms", "1m30s", "1h0m0s", "1.5s", "0s". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let u = Math.abs(Math.trunc(ns));
  if (u < 1e9) {
    if (u < 1e3) return `${sign}${u}ns`;
    if (u < 1e6) return `${sign}${frac(u, 1e3)}µs`;
    return `${sign}${frac(u, 1e6)}ms`;
  }
  const h = Math.floor(u / 3600e9);
  u -= h * 3600e9;
  const m = Math.floor(u / 60e9);
  u -= m * 60e9;
  const s = `${frac(u, 1e9)}s`;
  return sign + (h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s);
}

// ---------------------------------------------------------------------------------------------
// Configuration: flags, image, merge.

export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  /** commander's --no-healthcheck: false when given. */
  healthcheck?: boolean;
}

function durationFlag(flag: string, value: string): number {
  const ns = parseGoDuration(value.trim());
  if (ns === null) throw new InputError(`invalid argument ${JSON.stringify(value)} for "${flag}" flag: time: invalid duration ${JSON.stringify(value)}`);
  if (ns < 0) throw new InputError(`${flag} ${value}: cannot be negative`);
  // docker's daemon: 0 (inherit) or at least 1ms.
  if (ns !== 0 && ns < MIN_DURATION) throw new InputError(`${flag} ${value}: cannot be less than 1ms`);
  return ns;
}

/** The --health-* flags → docker's container HealthConfig (undefined: none given). */
export function healthFromFlags(f: HealthFlags): HealthConfig | undefined {
  const interval = f.healthInterval !== undefined ? durationFlag('--health-interval', f.healthInterval) : 0;
  const timeout = f.healthTimeout !== undefined ? durationFlag('--health-timeout', f.healthTimeout) : 0;
  const startPeriod = f.healthStartPeriod !== undefined ? durationFlag('--health-start-period', f.healthStartPeriod) : 0;
  const startInterval = f.healthStartInterval !== undefined ? durationFlag('--health-start-interval', f.healthStartInterval) : 0;
  let retries = 0;
  if (f.healthRetries !== undefined) {
    const v = f.healthRetries.trim();
    if (!/^[-+]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new InputError(`invalid argument ${JSON.stringify(f.healthRetries)} for "--health-retries" flag: not an integer`);
    retries = Number(v);
    if (retries < 0) throw new InputError(`--health-retries ${f.healthRetries}: cannot be negative`);
  }
  const cmd = f.healthCmd ?? '';
  const any = cmd !== '' || interval || timeout || startPeriod || startInterval || retries;
  if (f.healthcheck === false) {
    if (any) throw new InputError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  return {
    ...(cmd ? { Test: ['CMD-SHELL', cmd] } : {}),
    ...(interval ? { Interval: interval } : {}),
    ...(timeout ? { Timeout: timeout } : {}),
    ...(startPeriod ? { StartPeriod: startPeriod } : {}),
    ...(startInterval ? { StartInterval: startInterval } : {}),
    ...(retries ? { Retries: retries } : {}),
  };
}

/** docker's merge of the container's healthcheck with the image's: field by field, the container's wins. */
export function mergeHealth(user: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!image) return user;
  if (!user) return { ...image };
  const out: HealthConfig = { ...user };
  if (!out.Test?.length && image.Test?.length) out.Test = image.Test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (!out[k] && image[k]) out[k] = image[k];
  }
  return out;
}

/** Config.Healthcheck of a new container: its flags over its image's (absent when neither has one). */
export function healthcheckConfig(f: HealthFlags, image: HealthConfig | undefined): { Healthcheck?: HealthConfig } {
  const hc = mergeHealth(healthFromFlags(f), image);
  return hc ? { Healthcheck: hc } : {};
}

/** The healthcheck a container runs, defaults applied; null when it has none (or NONE). */
export function effectiveHealth(hc: HealthConfig | undefined): (Required<HealthConfig> & { command: string[] }) | null {
  const t = hc?.Test;
  if (!t?.length) return null;
  let command: string[];
  if (t[0] === 'CMD') command = t.slice(1);
  else if (t[0] === 'CMD-SHELL') command = ['/bin/sh', '-c', t.slice(1).join(' ')];
  else return null; // NONE, or a type docker warns about and ignores
  if (!command.length) return null;
  return {
    Test: t,
    Interval: hc!.Interval || DEFAULTS.Interval,
    Timeout: hc!.Timeout || DEFAULTS.Timeout,
    StartPeriod: hc!.StartPeriod || DEFAULTS.StartPeriod,
    StartInterval: hc!.StartInterval || DEFAULTS.StartInterval,
    Retries: hc!.Retries && hc!.Retries > 0 ? hc!.Retries : DEFAULTS.Retries,
    command,
  };
}

// ---------------------------------------------------------------------------------------------
// The health file.

const healthPath = (engine: Engine, id: string) => engine.containers.path(id, 'health.json');
const lockPath = (engine: Engine, id: string) => engine.containers.path(id, 'health.lock');
const pidPath = (engine: Engine, id: string) => engine.containers.path(id, 'health.pid');

function readHealthFile(engine: Engine, id: string): HealthFile | null {
  try {
    const h = JSON.parse(readFileSync(healthPath(engine, id), 'utf8')) as HealthFile;
    return h && typeof h.Status === 'string' && Array.isArray(h.Log) ? h : null;
  } catch {
    return null;
  }
}

function writeHealthFile(engine: Engine, id: string, h: HealthFile): void {
  writeAtomic(healthPath(engine, id), `${JSON.stringify(h)}\n`, 0o600);
}

/**
 * The container's .State.Health as docker shows it, or null when it has no healthcheck or
 * never started with one. Not running (or paused): "unhealthy", as docker's closed monitor.
 */
export function healthOf(engine: Engine, rec: ContainerRecord, running: boolean): Health | null {
  if (!effectiveHealth(rec.Config.Healthcheck)) return null;
  const h = readHealthFile(engine, rec.Id);
  if (!h) return null;
  return { Status: running ? h.Status : 'unhealthy', FailingStreak: h.FailingStreak, Log: h.Log };
}

// ---------------------------------------------------------------------------------------------
// The checker process.

/** Marks the checker's command line ($0 of its shell). */
const CHECKER = 'mydocker-health';

const CHECKER_SCRIPT = [
  'dir=$1; n=$2; shift 2',
  'while sleep "$n"; do',
  '  [ -e "$dir/container.json" ] || exit 0',
  '  n=$("$@" 2>/dev/null) || exit 0',
  '  [ -n "$n" ] || exit 0',
  'done',
].join('\n');

const seconds = (ns: number) => String(Math.max(ns, MIN_DURATION) / 1e9);

function isChecker(pid: number, id: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes(CHECKER) && cmd.some((a) => a.includes(id));
  } catch {
    return false;
  }
}

/** Alive and not a zombie (a killed leader its reaper has not reaped yet has no command line). */
function leaderAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function checkerPid(engine: Engine, id: string): number {
  try {
    const n = Number(readFileSync(pidPath(engine, id), 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * Kill the container's checker: its whole process group (the shell, its sleep, a probe in
 * flight). Its leader is checked to be this container's checker; a group whose leader is gone
 * (killed alone) is still ours — a pid stays reserved while it names a live process group.
 */
export function stopHealthChecker(engine: Engine, id: string): void {
  const pid = checkerPid(engine, id);
  if (pid) {
    if (!leaderAlive(pid) || isChecker(pid, id)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* nothing of it left */
      }
    }
  }
  rmSync(pidPath(engine, id), { force: true });
}

/**
 * At each start of a container that has a healthcheck (under its lock, once it runs): health
 * back to "starting" for this run, and a new checker. Nothing when it has none.
 */
export function startHealthChecker(engine: Engine, rec: ContainerRecord): void {
  stopHealthChecker(engine, rec.Id);
  const hc = effectiveHealth(rec.Config.Healthcheck);
  if (!hc) return;
  try {
    const unlock = lockSync(lockPath(engine, rec.Id), 'exclusive');
    try {
      const prev = readHealthFile(engine, rec.Id);
      writeHealthFile(engine, rec.Id, { Status: 'starting', FailingStreak: 0, Log: prev?.Log ?? [], Run: rec.State.StartedAt });
    } finally {
      unlock();
    }
  } catch {
    return; // not recorded (a full disk): no checks for this run rather than a failed start
  }
  const first = hc.StartPeriod > 0 ? hc.StartInterval : hc.Interval;
  let child: ReturnType<typeof spawn> | undefined;
  try {
    child = spawn('/bin/sh', ['-c', CHECKER_SCRIPT, CHECKER, engine.containers.path(rec.Id), seconds(first), process.execPath, engine.mydockerCli, ...engine.globalArgs(), 'container', 'healthcheck', rec.Id], {
    detached: true, // its own session and process group: killed as one
    stdio: 'ignore',
    env: engine.monitorEnv(),
    });
    child.on('error', () => {});
    child.unref();
    if (!child.pid) return;
    writeAtomic(pidPath(engine, rec.Id), `${child.pid}\n`, 0o600);
  } catch {
    // The container runs; without a recorded pid its checker could not be stopped with it
    // (a full disk): none, rather than a stray one. Its health stays "starting".
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** Our process group (the checker that runs us, as its pid). */
function ownProcessGroup(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return 0;
  }
}

/** Truncated as docker's limitedBuffer: 4096 bytes, then "...". */
function readOutput(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_OUTPUT + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, n)) > 0; ) n += r;
    return n > MAX_OUTPUT ? `${buf.subarray(0, MAX_OUTPUT).toString()}...` : buf.subarray(0, n).toString();
  } finally {
    closeSync(fd);
  }
}

export type Exec = (command: string[], stdio: [number, number, number]) => { wait(): Promise<number>; kill(): void };

/**
 * One probe (`mydocker container healthcheck <id>`, run by the checker): the test command in
 * the container with the timeout, the result recorded by docker's rules. Returns the next
 * delay in ns, or null when the checker should end (container gone or not running, not the
 * current checker).
 */
export async function runProbe(engine: Engine, id: string, exec: Exec): Promise<number | null> {
  let rec: ContainerRecord;
  try {
    rec = engine.containers.read(id);
  } catch {
    return null;
  }
  const hc = effectiveHealth(rec.Config.Healthcheck);
  if (!hc) return null;
  const pgid = ownProcessGroup();
  if (pgid && checkerPid(engine, id) !== pgid) return null; // a stale checker: the current one is another
  const live = liveState(engine, rec);
  if (!live.Running) return null;
  const run = rec.State.StartedAt;
  if (live.Paused) {
    // docker stops probing a paused container and calls it unhealthy.
    let was: HealthStatus = 'unhealthy';
    update(engine, id, run, (h) => ((was = h.Status), (h.Status = 'unhealthy')));
    if (was !== 'unhealthy') emitContainer(engine, 'health_status: unhealthy', rec);
    return hc.Interval;
  }
  const start = new Date();
  const outPath = engine.containers.path(id, 'health.out');
  let exitCode: number;
  let output: string;
  const out = openSync(outPath, 'w', 0o600);
  const devnull = openSync('/dev/null', 'r');
  try {
    let started: ReturnType<Exec>;
    try {
      started = exec(hc.command, [devnull, out, out]);
    } finally {
      closeSync(devnull);
      closeSync(out);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), hc.Timeout / 1e6)));
    const result = await Promise.race([started.wait(), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      started.kill();
      await started.wait().catch(() => 0);
      exitCode = -1;
      output = `Health check exceeded timeout (${formatGoDuration(hc.Timeout)})`;
    } else {
      exitCode = result;
      output = readOutput(outPath);
    }
  } catch (e) {
    // docker: a probe that could not be run is a failure with the error as its output.
    exitCode = -1;
    output = (e as Error).message.replace(/^.*?mydocker-runc:\s*/, '');
  } finally {
    rmSync(outPath, { force: true });
  }
  const end = new Date();
  // A probe cut short by the container's end is no result: the run is over.
  let after: ContainerRecord;
  try {
    after = engine.containers.read(id);
  } catch {
    return null;
  }
  const now = liveState(engine, after);
  if (!now.Running || after.State.StartedAt !== run) return null;
  let status: HealthStatus = 'starting';
  let before: HealthStatus = 'starting';
  const recorded = update(engine, id, run, (h) => {
    before = h.Status;
    h.Log = [...h.Log, { Start: start.toISOString(), End: end.toISOString(), ExitCode: exitCode, Output: output }].slice(-MAX_LOG);
    if (exitCode === 0) {
      h.FailingStreak = 0;
      h.Status = 'healthy';
    } else {
      // While starting, failures within the start period do not count (docker's rule).
      const inStartPeriod = h.Status === 'starting' && start.getTime() - Date.parse(run) < hc.StartPeriod / 1e6;
      if (!inStartPeriod) {
        h.FailingStreak++;
        if (h.FailingStreak >= hc.Retries) h.Status = 'unhealthy';
      }
    }
    status = h.Status;
  });
  if (!recorded) return null;
  if (status !== before) emitContainer(engine, `health_status: ${status}`, after); // docker's: on a change only
  // docker's getInterval: the start interval while in the start period and still starting.
  const inStart = Date.now() - Date.parse(run) < hc.StartPeriod / 1e6 && status === 'starting';
  return inStart ? hc.StartInterval : hc.Interval;
}

/** Read-modify-write of this run's health under the health lock; false when the run is not ours. */
function update(engine: Engine, id: string, run: string, fn: (h: HealthFile) => void): boolean {
  let unlock;
  try {
    unlock = lockSync(lockPath(engine, id), 'exclusive');
  } catch {
    return false; // the container went
  }
  try {
    const h = readHealthFile(engine, id);
    if (!h || h.Run !== run) return false;
    fn(h);
    writeHealthFile(engine, id, h);
    return true;
  } finally {
    unlock();
  }
}

/** The delay as the checker's sleep takes it (seconds, fractional). */
export const sleepArg = seconds;
