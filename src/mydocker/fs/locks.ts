// flock(2) locks on paths, for all of mydocker: the image store's index and layers, containers
// (their directory), foreground clients (a container's attach lock), the names table.
//
// `lock` waits with LOCK_NB and short sleeps, so that waiting never blocks Node's event loop
// (two loads in one process must not deadlock on each other's flocks); `lockSync` blocks in
// flock(2) itself, for the CLI's synchronous paths. A lock dies with its fd: a process killed
// with -9 releases everything it held.
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { KernelError } from '../../kernel/ffi.js';
import { flock, LOCK_EX, LOCK_NB, LOCK_SH } from '../../kernel/files.js';

export type Mode = 'shared' | 'exclusive';

/** flock with LOCK_NB: false when someone else holds it. */
export function tryFlock(fd: number, op: number, what: string): boolean {
  try {
    flock(fd, op | LOCK_NB, what);
    return true;
  } catch (e) {
    if (e instanceof KernelError && (e.code === 'EWOULDBLOCK' || e.code === 'EAGAIN')) return false;
    throw e;
  }
}

/** The fd to lock: a file (created if missing), or a directory as it is ('r': never created). */
function openForLock(path: string, dir: boolean): number {
  return openSync(path, dir ? 'r' : 'a', 0o600);
}

const op = (mode: Mode) => (mode === 'shared' ? LOCK_SH : LOCK_EX);

function releaser(fd: number): Release {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    closeSync(fd);
  };
}

export type Release = () => void;

/** Take a shared or exclusive flock on `path` (a file, created if missing); resolves with its release. */
export async function lock(path: string, mode: Mode, opts: { dir?: boolean } = {}): Promise<Release> {
  const fd = openForLock(path, opts.dir ?? false);
  try {
    for (let wait = 1; !tryFlock(fd, op(mode), path); wait = Math.min(wait * 2, 50)) await sleep(wait);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return releaser(fd);
}

/** lock(), waiting inside flock(2): for synchronous code paths. */
export function lockSync(path: string, mode: Mode, opts: { dir?: boolean } = {}): Release {
  const fd = openForLock(path, opts.dir ?? false);
  try {
    flock(fd, op(mode), path);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return releaser(fd);
}

/** Like lock(), but only if it is free now (null otherwise). */
export function tryLock(path: string, mode: Mode, opts: { dir?: boolean } = {}): Release | null {
  const fd = openForLock(path, opts.dir ?? false);
  if (!tryFlock(fd, op(mode), path)) {
    closeSync(fd);
    return null;
  }
  return releaser(fd);
}

