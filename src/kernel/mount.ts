// Mounts: mount(2), umount2(2), pivot_root(2), chroot(2).
import { check, libcFn, syscallNumber } from './ffi.js';

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_I_VERSION = 0x800000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;
export const MS_PROPAGATION = MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED;

export const MNT_DETACH = 0x2;
export const UMOUNT_NOFOLLOW = 0x8;

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const ret = libcFn(
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
  )(source, target, fstype, flags, data);
  check(ret, 'mount', `${source ?? fstype ?? 'none'} on ${target}`);
}

export function umount2(target: string, flags: number): void {
  check(libcFn('int umount2(const char *target, int flags)')(target, flags), 'umount2', target);
}

const rawSyscall = () => libcFn('long syscall(long number, ...)');

export function pivotRoot(newRoot: string, putOld: string): void {
  const ret = rawSyscall()(syscallNumber('pivot_root'), 'const char *', newRoot, 'const char *', putOld);
  check(ret, 'pivot_root', newRoot);
}

export function chroot(path: string): void {
  check(libcFn('int chroot(const char *path)')(path), 'chroot', path);
}

/** chdir(2) on the calling thread. Node caches process.cwd(), so callers use absolute paths after this. */
export function chdir(path: string): void {
  check(libcFn('int chdir(const char *path)')(path), 'chdir', path);
}

export function fchdir(fd: number): void {
  check(libcFn('int fchdir(int fd)')(fd), 'fchdir');
}
