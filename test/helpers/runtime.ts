// Test harness shared by the integration suites: a base config from bundles/busybox, bundles in
// temp dirs, the runtime CLI (ours or Debian's runc, so a scenario can be proven on runc first),
// and cleanup that leaves the host as it was even when a test fails.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs from build/test/helpers/). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const CLI = join(REPO, 'dist/mydocker-runc.js');
export const ROOTFS = join(REPO, 'bundles/rootfs');

export interface Runtime {
  name: 'mydocker-runc' | 'runc';
  argv: string[];
}

export const OURS: Runtime = { name: 'mydocker-runc', argv: [process.execPath, CLI] };
export const RUNC: Runtime = { name: 'runc', argv: ['runc'] };

export function haveRunc(): boolean {
  return spawnSync('runc', ['--version']).status === 0;
}

/** A fresh copy of bundles/busybox/config.json with the rootfs as an absolute path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function baseConfig(args: string[] = ['echo', 'hi']): any {
  const config = JSON.parse(readFileSync(join(REPO, 'bundles/busybox/config.json'), 'utf8'));
  config.root.path = ROOTFS;
  config.process.args = args;
  return config;
}

let counter = 0;

/** A unique container id that makes leaks easy to spot (the stop hook greps for "mydocker"). */
export function uniqueId(tag = 'c'): string {
  return `mydocker-test-${tag}-${process.pid}-${++counter}`;
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * One sandbox per test: its own state root and bundle dirs, and a record of every container id
 * it used so cleanup() can `delete --force` them and check nothing is left behind.
 */
export class Sandbox {
  readonly dir: string;
  readonly root: string;
  private ids = new Set<string>();

  constructor(readonly runtime: Runtime = OURS) {
    this.dir = mkdtempSync(join(tmpdir(), 'mydocker-test-'));
    this.root = join(this.dir, 'state');
  }

  /** Write a bundle (config.json; a private copy of the rootfs when `copyRootfs`) and return its path. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  bundle(config: any, opts: { copyRootfs?: boolean; name?: string } = {}): string {
    const bundle = mkdtempSync(join(this.dir, `${opts.name ?? 'bundle'}-`));
    if (opts.copyRootfs) {
      cpSync(ROOTFS, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
      config = { ...config, root: { ...config.root, path: 'rootfs' } };
    }
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
    return bundle;
  }

  /**
   * Run the runtime with our --root. For `create` and `run -d`, pass `detached: true`: the
   * container inherits the runtime's stdio, so with pipes spawnSync would wait for the
   * container to exit; detached runs give it files instead (read back into the result).
   */
  run(args: string[], opts: SpawnSyncOptions & { detached?: boolean } = {}): RunResult {
    const [cmd, ...pre] = this.runtime.argv;
    const { detached, ...spawnOpts } = opts;
    let out = -1;
    let outPath = '';
    if (detached) {
      outPath = join(this.dir, `out-${++counter}.log`);
      out = openSync(outPath, 'w+');
      spawnOpts.stdio = ['ignore', out, out];
    }
    try {
      const res = spawnSync(cmd!, [...pre, '--root', this.root, ...args], {
        encoding: 'utf8',
        timeout: 60_000,
        env: cleanEnv(),
        ...spawnOpts,
      }) as SpawnSyncReturns<string>;
      if (res.error) throw res.error;
      const logged = detached ? readFileSync(outPath, 'utf8') : '';
      return { status: res.status, signal: res.signal, stdout: res.stdout ?? '', stderr: (res.stderr ?? '') + logged };
    } finally {
      if (out >= 0) closeSync(out);
    }
  }

  /** Like run(), without blocking the event loop (for parallel runs). Output goes to a file. */
  runAsync(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    const [cmd, ...pre] = this.runtime.argv;
    const outPath = join(this.dir, `out-${++counter}.log`);
    const out = openSync(outPath, 'w+');
    const child = spawn(cmd!, [...pre, '--root', this.root, ...args], { stdio: ['ignore', out, out], env: opts.env ?? cleanEnv() });
    closeSync(out);
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (status, signal) => resolve({ status, signal, stdout: '', stderr: readFileSync(outPath, 'utf8') }));
    });
  }

  track(id: string): string {
    this.ids.add(id);
    return id;
  }

  /** The OCI state of a container, or null when the runtime says it does not exist. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  state(id: string): any {
    const r = this.run(['state', id]);
    if (r.status !== 0) return null;
    return JSON.parse(r.stdout);
  }

  /** Delete every container this sandbox touched, remove its dirs; report what leaked. */
  cleanup(): string[] {
    const leaks: string[] = [];
    for (const id of this.ids) {
      this.run(['delete', '--force', id]);
      for (const c of leftoverCgroups(id)) leaks.push(`cgroup ${c}`);
    }
    for (const m of mountsUnder(this.dir)) leaks.push(`mount ${m}`);
    for (const p of processesRootedUnder(this.dir)) leaks.push(`process ${p}`);
    if (existsSync(this.root)) {
      for (const e of readdirSync(this.root)) leaks.push(`state dir ${join(this.root, e)}`);
    }
    // Unmount anything still there before removing the tree, so a leak never becomes a rm -rf through a bind.
    for (const m of mountsUnder(this.dir).reverse()) spawnSync('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
    return leaks;
  }
}

/** A test body with its own Sandbox, cleaned up afterwards; the test fails if anything leaked. */
export function withSandbox(runtime: Runtime, fn: (sb: Sandbox) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const sb = new Sandbox(runtime);
    try {
      await fn(sb);
    } finally {
      const leaks = sb.cleanup();
      if (leaks.length) throw new Error(`left behind: ${leaks.join(', ')}`);
    }
  };
}

/** The environment the runtime gets: ours minus what slows every Node start. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

export function mountsUnder(prefix: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && (mp === prefix || mp.startsWith(`${prefix}/`))) out.push(mp);
  }
  return out;
}

/** Cgroup directories named after `id` anywhere in the host's hierarchies (depth ≤ 4). */
export function leftoverCgroups(id: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name === id) out.push(p);
      else walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return out;
}

/** Processes whose root or cwd is under `prefix` (a container of a copied rootfs that outlived its test). */
export function processesRootedUnder(prefix: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    for (const link of ['root', 'cwd']) {
      try {
        const target = readlinkSync(`/proc/${pid}/${link}`);
        if (target === prefix || target.startsWith(`${prefix}/`)) {
          out.push(`${pid} (${link} ${target})`);
          break;
        }
      } catch {
        /* gone, or a kernel thread */
      }
    }
  }
  return out;
}

/** Processes whose command line mentions `needle` (leak detection for inits and sleeps). */
export function processesMatching(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Poll `fn` until it returns a truthy value (or time runs out); for waiting on the kernel, never for timing assertions. */
export async function waitFor<T>(fn: () => T, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SigBlk/SigIgn/SigCgt lines: nothing blocked or caught, and none of SIGUSR1, SIGPIPE, SIGXFSZ ignored. */
export function cleanSignals(out: string): void {
  const mask = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(out)?.[1] ?? 'x'}`);
  assert.equal(mask('SigBlk'), 0n, out);
  assert.equal(mask('SigCgt'), 0n, out);
  const ours = (1n << 9n) | (1n << 12n) | (1n << 24n); // SIGUSR1, SIGPIPE, SIGXFSZ
  assert.equal(mask('SigIgn') & ours, 0n, out);
}

