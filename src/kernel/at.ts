// The *at(2) family: file operations relative to a directory fd, for code that must never
// follow a symlink it did not choose to follow (the image store's layer extraction and the
// tree walks of commit/export). Each call throws a KernelError naming the call and the path.
import { check, libcFn, syscallNumber } from './ffi.js';
import { makedev } from './files.js';

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_EMPTY_PATH = 0x1000;

// openat2(2) resolve flags.
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

// The open(2) flags, from the one table of them.
export { O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from './files.js';

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

const how = Buffer.alloc(24);

/**
 * openat2(2): `path` resolved under `dirfd` with `resolve` flags (RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS: no component may be a symlink or climb out). `what` names the path in
 * errors (the archive's name for it, say), defaulting to `path`.
 */
export function openat2(dirfd: number, path: string, flags: number, resolve: number, mode = 0, what = path): number {
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const sc = libcFn('long syscall(long number, ...)');
  return check(sc(syscallNumber('openat2'), 'int', dirfd, 'const char *', path, 'void *', how, 'size_t', 24), 'openat2', what);
}

export function openat(dirfd: number, name: string, flags: number, mode = 0, what = name): number {
  return check(libcFn('int openat(int dirfd, const char *path, int flags, ...)')(dirfd, name, flags, 'uint32', mode), 'openat', what);
}

export function mkdirat(dirfd: number, name: string, mode: number, what = name): void {
  check(libcFn('int mkdirat(int dirfd, const char *path, uint32 mode)')(dirfd, name, mode), 'mkdirat', what);
}

export function mknodat(dirfd: number, name: string, mode: number, major: number, minor: number, what = name): void {
  const dev = makedev(major, minor);
  check(libcFn('int mknodat(int dirfd, const char *path, uint32 mode, uint64 dev)')(dirfd, name, mode, dev), 'mknodat', what);
}

export function symlinkat(target: string, dirfd: number, name: string, what = name): void {
  check(libcFn('int symlinkat(const char *target, int dirfd, const char *path)')(target, dirfd, name), 'symlinkat', what);
}

/** linkat(2) without AT_SYMLINK_FOLLOW: a link to `oldName` itself, never to what it points at. */
export function linkat(oldDirfd: number, oldName: string, newDirfd: number, newName: string, what = newName): void {
  check(
    libcFn('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)')(oldDirfd, oldName, newDirfd, newName, 0),
    'linkat',
    what,
  );
}

export function unlinkat(dirfd: number, name: string, flags: number, what = name): void {
  check(libcFn('int unlinkat(int dirfd, const char *path, int flags)')(dirfd, name, flags), 'unlinkat', what);
}

/** fchownat(2); with AT_SYMLINK_NOFOLLOW a symlink itself is changed (lchown). */
export function fchownat(dirfd: number, name: string, uid: number, gid: number, flags: number, what = name): void {
  check(libcFn('int fchownat(int dirfd, const char *path, uint32 uid, uint32 gid, int flags)')(dirfd, name, uid, gid, flags), 'fchownat', what);
}

/** fchmodat(2) (never on a symlink: Linux has no mode for them). */
export function fchmodat(dirfd: number, name: string, mode: number, what = name): void {
  check(libcFn('int fchmodat(int dirfd, const char *path, uint32 mode, int flags)')(dirfd, name, mode, 0), 'fchmodat', what);
}

/** utimensat(2): atime and mtime in nanoseconds; with AT_SYMLINK_NOFOLLOW a symlink's own times. */
export function utimensat(dirfd: number, name: string, atimeNs: bigint, mtimeNs: bigint, flags: number, what = name): void {
  const ts = Buffer.alloc(32); // struct timespec[2] { i64 tv_sec; i64 tv_nsec; }
  ts.writeBigInt64LE(atimeNs / 1_000_000_000n, 0);
  ts.writeBigInt64LE(atimeNs % 1_000_000_000n, 8);
  ts.writeBigInt64LE(mtimeNs / 1_000_000_000n, 16);
  ts.writeBigInt64LE(mtimeNs % 1_000_000_000n, 24);
  check(libcFn('int utimensat(int dirfd, const char *path, void *times, int flags)')(dirfd, name, ts, flags), 'utimensat', what);
}

export function fsetxattr(fd: number, name: string, value: Buffer, flags: number, what = name): void {
  check(libcFn('int fsetxattr(int fd, const char *name, void *value, size_t size, int flags)')(fd, name, value, value.length, flags), 'fsetxattr', what);
}

/** lsetxattr(2): the xattr of `path` itself, never of what a final symlink points at. */
export function lsetxattr(path: string, name: string, value: Buffer, flags: number, what = path): void {
  check(
    libcFn('int lsetxattr(const char *path, const char *name, void *value, size_t size, int flags)')(path, name, value, value.length, flags),
    'lsetxattr',
    `${name} on ${what}`,
  );
}

/** The names of `path`'s own xattrs (llistxattr(2)); [] where the filesystem has none. */
export function llistxattr(path: string, what = path): string[] {
  const fn = libcFn('long llistxattr(const char *path, void *list, size_t size)');
  for (let size = 1024; ; size *= 4) {
    const buf = Buffer.alloc(size);
    const n = Number(fn(path, buf, size));
    if (n < 0) {
      try {
        check(n, 'llistxattr', what);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'ERANGE' && size < 1 << 20) continue;
        if (code === 'ENOTSUP') return [];
        throw e;
      }
    }
    return buf
      .subarray(0, n)
      .toString('latin1')
      .split('\0')
      .filter((s) => s !== '');
  }
}

/** The value of `path`'s own xattr `name` (lgetxattr(2)), or null when it has none. */
export function lgetxattr(path: string, name: string, what = path): Buffer | null {
  const fn = libcFn('long lgetxattr(const char *path, const char *name, void *value, size_t size)');
  for (let size = 256; ; size *= 4) {
    const buf = Buffer.alloc(size);
    const n = Number(fn(path, name, buf, size));
    if (n < 0) {
      try {
        check(n, 'lgetxattr', `${name} on ${what}`);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'ERANGE' && size < 1 << 20) continue;
        if (code === 'ENODATA' || code === 'ENOTSUP') return null;
        throw e;
      }
    }
    return Buffer.from(buf.subarray(0, n));
  }
}

/** syncfs(2): flush the whole filesystem `fd` is on (one call instead of an fsync per file). */
export function syncfs(fd: number, what = ''): void {
  check(libcFn('int syncfs(int fd)')(fd), 'syncfs', what);
}
