// File-level calls that node:fs lacks: flock, mkfifo, mknod, O_PATH opens, socketpair.
import { closeSync, openSync, writeSync } from 'node:fs';
import { check, KernelError, libcFn } from './ffi.js';

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export function flock(fd: number, op: number, what = ''): void {
  check(libcFn('int flock(int fd, int op)')(fd, op), 'flock', what);
}

export function mkfifo(path: string, mode: number): void {
  check(libcFn('int mkfifo(const char *path, uint32 mode)')(path, mode), 'mkfifo', path);
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export function mknod(path: string, mode: number, major: number, minor: number): void {
  const dev = makedev(major, minor);
  check(libcFn('int mknod(const char *path, uint32 mode, uint64 dev)')(path, mode, dev), 'mknod', path);
}

export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

/** open(2) with flags node:fs does not pass through (O_PATH). */
export function open(path: string, flags: number, mode = 0): number {
  return check(libcFn('int open(const char *path, int flags, ...)')(path, flags, 'uint32', mode), 'open', path);
}

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_CLOEXEC = 0o2000000;

export function socketpair(type: number): [number, number] {
  const sv = [0, 0];
  check(libcFn('int socketpair(int domain, int type, int protocol, _Out_ int *sv)')(AF_UNIX, type, 0, sv), 'socketpair');
  return [sv[0]!, sv[1]!];
}

/**
 * A node:fs error as one of ours: Node says "EACCES: permission denied, write" (no path for a
 * failed write); this says "write /proc/self/oom_score_adj: Permission denied (EACCES)".
 * Anything that is not an errno error comes back as it was.
 */
export function fsError(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException | null;
  if (!err || typeof err.errno !== 'number' || e instanceof KernelError) return e;
  return new KernelError(err.syscall ?? 'access', Math.abs(err.errno), path);
}

/** Write `data` to an existing file (a /proc or /sys knob, mostly) in one write(2); errors name the call and the path. */
export function writeFile(path: string, data: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw fsError(e, path);
  }
  try {
    writeSync(fd, data);
  } catch (e) {
    throw fsError(e, path);
  } finally {
    closeSync(fd);
  }
}
