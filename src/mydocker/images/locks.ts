// flock(2)-based locks for the image store, and temp areas that a crashed process cannot
// leave behind for long.
//
// A lock is taken with LOCK_NB and retried with a short sleep, so that waiting never blocks
// Node's event loop (two loads in one process must not deadlock on each other's flocks).
// Temp areas are directories under DataRoot.tmp, each flocked by its owner for its whole
// life: the next sweep finds a dead owner's area unlocked and removes it.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KernelError } from '../../kernel/ffi.js';
import { flock, LOCK_EX, LOCK_NB, LOCK_SH } from '../../kernel/files.js';

export type Release = () => void;

function tryFlock(fd: number, op: number, what: string): boolean {
  try {
    flock(fd, op | LOCK_NB, what);
    return true;
  } catch (e) {
    if (e instanceof KernelError && (e.code === 'EWOULDBLOCK' || e.code === 'EAGAIN')) return false;
    throw e;
  }
}

/** Take a shared or exclusive flock on `path` (created if missing); resolves with its release. */
export async function lock(path: string, mode: 'shared' | 'exclusive'): Promise<Release> {
  const fd = openSync(path, 'a', 0o600);
  const op = mode === 'shared' ? LOCK_SH : LOCK_EX;
  try {
    for (let wait = 1; !tryFlock(fd, op, path); wait = Math.min(wait * 2, 50)) await sleep(wait);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    closeSync(fd);
  };
}

/** Like lock(), but only if it is free now (null otherwise). */
export function tryLock(path: string, mode: 'shared' | 'exclusive'): Release | null {
  const fd = openSync(path, 'a', 0o600);
  if (!tryFlock(fd, mode === 'shared' ? LOCK_SH : LOCK_EX, path)) {
    closeSync(fd);
    return null;
  }
  return () => closeSync(fd);
}

export interface TempDir {
  path: string;
  /** Remove the directory and drop its lock. */
  dispose(): void;
  /** Drop the lock only (what is left has been moved into place). */
  release(): void;
}

/** A directory under `tmpRoot` owned (flocked) by this process until disposed. */
export function tempDir(tmpRoot: string, kind: string): TempDir {
  mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  const name = `img-${kind}-${process.pid}-${randomBytes(6).toString('hex')}`;
  const path = join(tmpRoot, name);
  // Made under a name the sweep ignores, locked, then renamed: a sweeper never sees it unlocked.
  const staging = join(tmpRoot, `.${name}`);
  mkdirSync(staging, { mode: 0o700 });
  const fd = openSync(staging, 'r');
  flock(fd, LOCK_EX | LOCK_NB, staging);
  renameSync(staging, path);
  let open = true;
  const release = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    path,
    release,
    dispose() {
      try {
        rmSync(path, { recursive: true, force: true });
      } finally {
        release();
      }
    },
  };
}

/** The names tempDir() gives: "<kind>-<pid>-<12 hex>". */
const TEMP_NAME = /^\.?img-[a-z]+-\d+-[0-9a-f]{12}$/;

/**
 * Remove temp areas whose owner is gone (their flock is free). Never touches a live one, nor
 * anything in the directory that tempDir() did not name (DataRoot.tmp is shared with the
 * container side).
 */
export function sweepTemp(tmpRoot: string): number {
  let names: string[];
  try {
    names = readdirSync(tmpRoot);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!TEMP_NAME.test(name)) continue;
    const path = join(tmpRoot, name);
    // A staging name is unlocked for an instant while it is made: only an old one is dead.
    if (name.startsWith('.') && Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) < 60_000) continue;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      continue;
    }
    try {
      if (!tryFlock(fd, LOCK_EX, path)) continue;
      rmSync(path, { recursive: true, force: true });
      removed++;
    } catch {
      /* raced with its owner or another sweeper: leave it */
    } finally {
      closeSync(fd);
    }
  }
  return removed;
}
