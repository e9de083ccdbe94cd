// Lock files for the network state stores (IPAM, attachment records, the port registry):
// flock(2) on a file, so a lock dies with its holder's last fd and never needs breaking.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { retryEintr } from '../kernel/ffi.js';
import { flock, LOCK_EX } from '../kernel/files.js';

/** Open (creating it and its directory) and lock `path` exclusively, waiting for the holder; the fd. */
export function lockFile(path: string): number {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  try {
    retryEintr(() => flock(fd, LOCK_EX, path));
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** Run `fn` holding the lock on `path`. */
export function withLock<T>(path: string, fn: () => T): T {
  const fd = lockFile(path);
  try {
    return fn();
  } finally {
    closeSync(fd);
  }
}
