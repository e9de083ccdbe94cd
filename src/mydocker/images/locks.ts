// Temp areas for the image store that a crashed process cannot leave behind for long (the
// locks themselves are fs/locks.ts, shared with the rest of mydocker). Temp areas are
// directories under DataRoot.tmp, each flocked by its owner for its whole life: the next sweep
// finds a dead owner's area unlocked and removes it.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { flock, LOCK_EX, LOCK_NB } from '../../kernel/files.js';

import { tryFlock } from '../fs/locks.js';

export { lock, tryLock, type Release } from '../fs/locks.js';

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
