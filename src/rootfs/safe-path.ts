// Mount targets resolved inside the rootfs, never following a symlink out of it.
//
// A rootfs is untrusted: `/proc` in an image may be a symlink to `/etc`, and a shared volume
// may be swapped under us between a check and a mount (CVE-2021-30465). So every target is
// resolved with openat2(RESOLVE_IN_ROOT) relative to an fd of the rootfs, missing components
// are created with mkdirat in an already-resolved parent, and the mount(2) goes to
// /proc/self/fd/<fd> of the resolved O_PATH descriptor — the inode we checked is the inode we
// mount on.
import { closeSync } from 'node:fs';
import { check, KernelError, libcFn, syscallNumber } from '../kernel/ffi.js';
import { O_CLOEXEC, O_DIRECTORY, O_PATH, open } from '../kernel/files.js';
import { RuntimeError } from '../errors.js';

const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;
const O_CREAT = 0o100;
const O_WRONLY = 1;
const O_NOFOLLOW = 0o400000;

function openat2(dirfd: number, path: string, flags: number, resolve: number): number {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(0n, 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const sc = libcFn('long syscall(long number, ...)');
  const ret = sc(syscallNumber('openat2'), 'int', dirfd, 'const char *', path, 'void *', how, 'size_t', 24);
  return check(ret, 'openat2', path);
}

function mkdirat(dirfd: number, name: string, mode: number): void {
  check(libcFn('int mkdirat(int dirfd, const char *path, uint32 mode)')(dirfd, name, mode), 'mkdirat', name);
}

function openat(dirfd: number, name: string, flags: number, mode: number): number {
  return check(libcFn('int openat(int dirfd, const char *path, int flags, ...)')(dirfd, name, flags, 'uint32', mode), 'openat', name);
}

/** Split a container path into clean components ("/a//b/./c" → [a, b, c]); ".." is kept for the kernel to clamp. */
export function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/** A directory fd of the rootfs, the anchor for every resolution. */
export function openRoot(rootfs: string): number {
  return open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/** Resolve `path` inside the root; an O_PATH fd, or null when it does not exist. */
export function resolveInRoot(rootFd: number, path: string): number | null {
  const rel = components(path).join('/') || '.';
  try {
    return openat2(rootFd, rel, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  } catch (e) {
    if (e instanceof KernelError && e.code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Make sure `path` exists inside the root as a directory (or an empty file when `file`),
 * creating what is missing, and return an O_PATH fd of it. The caller closes the fd.
 */
export function ensureInRoot(rootFd: number, path: string, file: boolean, what: string): number {
  const parts = components(path);
  let parent = openat2(rootFd, '.', O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_IN_ROOT);
  try {
    for (let i = 0; i < parts.length; i++) {
      const prefix = parts.slice(0, i + 1).join('/');
      let fd = resolveInRoot(rootFd, prefix);
      if (fd === null) {
        const last = i === parts.length - 1;
        const name = parts[i]!;
        if (name === '..') throw new RuntimeError(`${what}: cannot resolve ${path} inside the rootfs`);
        try {
          if (last && file) closeSync(openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644));
          else mkdirat(parent, name, 0o755);
        } catch (e) {
          // EEXIST here means a dangling symlink: it points at something missing, and
          // creating its target is not ours to do.
          if (e instanceof KernelError && e.code === 'EEXIST') {
            throw new RuntimeError(`${what}: ${'/' + prefix} is a dangling symlink in the rootfs`);
          }
          throw e;
        }
        fd = resolveInRoot(rootFd, prefix);
        if (fd === null) throw new RuntimeError(`${what}: ${'/' + prefix} vanished while being created`);
      }
      closeSync(parent);
      parent = fd;
    }
    const result = parent;
    parent = -1;
    return result;
  } finally {
    if (parent >= 0) closeSync(parent);
  }
}

/** The path through which mount(2) reaches an O_PATH fd's inode. */
export function procFdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}
