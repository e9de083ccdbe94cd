// Namespaces: unshare(2) and setns(2) on the calling (main) thread.
//
// Namespaces are per thread in Node: what the main thread enters, the children it spawns
// inherit, while libuv's threadpool stays behind (so only synchronous fs calls see the new
// mount namespace). A user namespace cannot be entered from a multi-threaded process at all.
// The CLONE_* flags and each namespace's /proc file names are in kernel/constants.ts and
// spec/tables.ts (NAMESPACES); the flags are re-exported here for the callers of these two.
import { check, libcFn } from './ffi.js';

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
