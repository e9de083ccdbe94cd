// Helpers for the cgroup tests: unique names with "mydocker" in them (a leak is visible), a
// process that waits for a go-ahead on stdin (so it is inside the cgroup before it does
// anything), fake hierarchies in a temp dir, and a leftover check across every hierarchy.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectLayout, type Layout } from '../../src/cgroups/layout.js';

let n = 0;
/** "mydocker-test-<tag>-<pid>-<n>" */
export function cgName(tag: string): string {
  return `mydocker-test-${tag}-${process.pid}-${++n}`;
}

/** Every hierarchy mount point of this host. */
export function mounts(layout: Layout = detectLayout()): string[] {
  return [...layout.v1.map((h) => h.mount), ...(layout.unified ? [layout.unified] : [])];
}

/** Directories named `name` directly under a hierarchy root (a test's top-level parent). */
export function leftovers(name: string, layout: Layout = detectLayout()): string[] {
  return mounts(layout)
    .map((m) => join(m, name))
    .filter((d) => existsSync(d));
}

export interface Waiting {
  child: ChildProcess;
  pid: number;
  /** Let the script run (it waits on `read` until then). */
  go(): void;
  /** Resolves with [code, signal] when the process exits. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  stdout(): string;
}

/** `sh -c 'read _; <script>'`: joined to a cgroup before `go()`, it does nothing outside it. */
export function spawnWaiting(script: string): Waiting {
  const child = spawn('sh', ['-c', `read _go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', () => {});
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  return {
    child,
    pid: child.pid!,
    go: () => child.stdin!.write('go\n'),
    exited,
    stdout: () => out,
  };
}

/** SIGKILL a test process (if still there) and wait for it. */
export async function killWait(w: Waiting | undefined): Promise<void> {
  if (!w) return;
  if (w.child.exitCode === null && w.child.signalCode === null) {
    try {
      process.kill(w.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await w.exited;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` until it returns true or `ms` pass. */
export async function until(fn: () => boolean, ms = 5000, step = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (fn()) return true;
    await sleep(step);
  }
  return fn();
}

/** A temp dir standing in for a hierarchy root; `files` are created in `dir` (relative). */
export function fakeDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'mydocker-test-cg-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** A fake v1 (or hybrid) layout in a temp dir: one subdir per hierarchy. */
export function fakeV1Layout(hierarchies: string[][], unified = false): Layout {
  const root = mkdtempSync(join(tmpdir(), 'mydocker-test-cgroot-'));
  const v1 = hierarchies.map((controllers) => {
    const mount = join(root, controllers.join(','));
    mkdirSync(mount);
    return { mount, controllers };
  });
  let u: string | undefined;
  if (unified) {
    u = join(root, 'unified');
    mkdirSync(u);
  }
  return { kind: unified ? 'hybrid' : 'v1', v1, unified: u };
}

/** Every directory under `root` (relative paths), for "nothing left behind" checks. */
export function dirsUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      out.push(join(rel, e.name));
      walk(join(d, e.name), join(rel, e.name));
    }
  };
  walk(root, '');
  return out.sort();
}
