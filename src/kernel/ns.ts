// Namespaces: unshare(2) and setns(2) on the calling (main) thread.
//
// Namespaces are per thread in Node: what the main thread enters, the children it spawns
// inherit, while libuv's threadpool stays behind (so only synchronous fs calls see the new
// mount namespace). A user namespace cannot be entered from a multi-threaded process at all.
import { openSync, closeSync } from 'node:fs';
import { check, libcFn } from './ffi.js';

import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
} from './constants.js';

export {
  CLONE_FILES,
  CLONE_FS,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
} from './constants.js';

export function unshare(flags: number, what = ''): void {
  check(libcFn('int unshare(int flags)')(flags), 'unshare', what || `0x${flags.toString(16)}`);
}

export function setns(fd: number, nstype: number, what = ''): void {
  check(libcFn('int setns(int fd, int nstype)')(fd, nstype), 'setns', what);
}

/** Open a namespace file (e.g. /proc/self/ns/pid, or a path from the config) for setns. */
export function openNs(path: string): number {
  return openSync(path, 'r');
}

/**
 * Enter the namespace at `path` for the duration of `fn`, then return to the caller's own.
 * Used for the PID namespace: setns only changes where the *next child* is born, and going
 * back to our own PID namespace is always allowed.
 */
export function withNamespace<T>(path: string, nstype: number, fn: () => T): T {
  const self = openNs(`/proc/thread-self/ns/${nsFileFor(nstype)}`);
  try {
    const target = openNs(path);
    try {
      setns(target, nstype, path);
    } finally {
      closeSync(target);
    }
    try {
      return fn();
    } finally {
      setns(self, nstype, 'back to the runtime namespace');
    }
  } finally {
    closeSync(self);
  }
}

export function nsFileFor(nstype: number): string {
  switch (nstype) {
    case CLONE_NEWNS: return 'mnt';
    case CLONE_NEWPID: return 'pid_for_children';
    case CLONE_NEWNET: return 'net';
    case CLONE_NEWIPC: return 'ipc';
    case CLONE_NEWUTS: return 'uts';
    case CLONE_NEWCGROUP: return 'cgroup';
    case CLONE_NEWUSER: return 'user';
    case CLONE_NEWTIME: return 'time_for_children';
    default: throw new Error(`unknown namespace flag 0x${nstype.toString(16)}`);
  }
}
