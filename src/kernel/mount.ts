// Mounts: mount(2), umount2(2), pivot_root(2), chroot(2).
import { check, libcFn, syscallNumber } from './ffi.js';

export {
  MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_SYNCHRONOUS, MS_REMOUNT, MS_MANDLOCK, MS_DIRSYNC,
  MS_NOSYMFOLLOW, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_MOVE, MS_REC, MS_SILENT, MS_UNBINDABLE,
  MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_RELATIME, MS_I_VERSION, MS_STRICTATIME, MS_LAZYTIME,
  MS_PROPAGATION, MNT_DETACH, UMOUNT_NOFOLLOW,
} from './constants.js';

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
