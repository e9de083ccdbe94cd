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

const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;

/** mount_setattr(2) on an fd's mount and everything below it (Linux 5.12+): the recursive `r*` options. */
export function mountSetattrRecursive(fd: number, set: number, clear: number, what: string): void {
  const attr = Buffer.alloc(32); // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
  attr.writeBigUInt64LE(BigInt(set), 0);
  attr.writeBigUInt64LE(BigInt(clear), 8);
  const ret = rawSyscall()(
    syscallNumber('mount_setattr'),
    'int', fd, 'const char *', '', 'unsigned int', AT_EMPTY_PATH | AT_RECURSIVE, 'void *', attr, 'size_t', 32,
  );
  check(ret, 'mount_setattr', what);
}
