// Safe extraction of a layer (or a rootfs tarball) into a directory. An archive is hostile
// until proven otherwise, so:
//   - names are relative: an absolute name or a ".." component is refused, never clamped;
//   - every parent directory is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
//     from the layer's own directory fd: a symlink the archive made earlier (absolute or
//     relative, pointing anywhere) is never followed, and writing through one is refused;
//   - the final component is created with O_EXCL | O_NOFOLLOW / mknodat / symlinkat / linkat
//     (which never follows) after removing what an earlier entry left there;
//   - hardlink targets are resolved the same way and must be in the layer already.
// Metadata is kept as docker keeps it as root: modes (setuid included: set after chown, which
// clears it), uid/gid, mtimes (directories last, as writing into them changes theirs), PAX
// xattrs, device nodes. OCI whiteouts become overlayfs ones: `.wh.NAME` a 0/0 character
// device NAME, `.wh..wh..opq` the trusted.overlay.opaque=y xattr on its directory.
//
// `cp` extracts with the same code in copy mode (ExtractOptions.copy): into a directory that
// already has content, so docker's rules for that apply — no whiteouts, the archive's root
// entry leaves the destination as it is, a directory is never replaced by a non-directory nor
// the reverse — and mount points below the destination (a container's volumes) are not crossed.
import { closeSync, fchmodSync, fchownSync, futimesSync, lstatSync, readdirSync, writeSync } from 'node:fs';
import {
  AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY, O_WRONLY,
  RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
  fchmodat, fchownat, fsetxattr, linkat, lsetxattr, mkdirat, mknodat, openat, openat2, symlinkat, unlinkat, utimensat,
} from '../../kernel/at.js';
import { KernelError } from '../../kernel/ffi.js';
import { S_IFBLK, S_IFCHR, S_IFIFO } from '../../kernel/files.js';
import { InputError, systemError } from '../errors.js';
import { headerXattrs, type TarEntry, type TarHeader } from './tar.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

const BENEATH = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

export interface ExtractOptions {
  /** `cp`: see the top of this file. */
  copy?: boolean;
  /** Every entry owned by this uid/gid instead of the archive's (cp into a container without -a: root). */
  owner?: { uid: number; gid: number };
  /**
   * Paths (relative to the destination) that are mount points in the view being written: an
   * entry at one (other than a directory, which is left as it is) or beneath it is refused —
   * what is under it is another filesystem, written only through its own copy.
   */
  barriers?: Map<string, string>;
}

export interface ExtractStats {
  /** Sum of regular files' sizes (docker's layer size). */
  size: number;
  entries: number;
}

/** The components of an archive path; an absolute path or ".." is refused. */
export function entryParts(raw: string, what: string, scope = 'the layer'): string[] {
  if (raw.startsWith('/')) throw new InputError(`${what}: tar entry ${JSON.stringify(raw)}: absolute path (refusing to write outside ${scope})`);
  const parts = raw.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw new InputError(`${what}: tar entry ${JSON.stringify(raw)}: path escapes ${scope} ("..")`);
  return parts;
}

const proc = (fd: number, name?: string) => (name === undefined ? `/proc/self/fd/${fd}/.` : `/proc/self/fd/${fd}/${name}`);

/** Directory fds of one tree, opened beneath its root without following any symlink. */
class Tree {
  private cache = new Map<string, number>();

  constructor(
    readonly rootFd: number,
    private what: string,
    private scope = 'the layer',
  ) {}

  /** An O_PATH fd of the directory at `parts` (created, 0755, where missing and `create`). */
  dir(parts: string[], create: boolean, entry: string): number {
    const key = parts.join('/');
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    if (this.cache.size > 256) this.invalidate();
    let fd: number;
    try {
      fd = openat2(this.rootFd, key || '.', O_PATH | O_DIRECTORY | O_CLOEXEC, BENEATH);
    } catch (e) {
      if (!(e instanceof KernelError) || !create || e.code !== 'ENOENT') throw this.explain(e, key, entry);
      fd = this.create(parts, entry);
    }
    this.cache.set(key, fd);
    return fd;
  }

  private create(parts: string[], entry: string): number {
    let fd = openat2(this.rootFd, '.', O_PATH | O_DIRECTORY | O_CLOEXEC, BENEATH);
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      let next: number;
      try {
        next = openat2(fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC, BENEATH);
      } catch (e) {
        if (!(e instanceof KernelError) || e.code !== 'ENOENT') {
          closeSync(fd);
          throw this.explain(e, parts.slice(0, i + 1).join('/'), entry);
        }
        mkdirat(fd, name, 0o755, parts.slice(0, i + 1).join('/'));
        next = openat2(fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC, BENEATH);
      }
      closeSync(fd);
      fd = next;
    }
    return fd;
  }

  private explain(e: unknown, path: string, entry: string): Error {
    if (e instanceof KernelError) {
      if (e.code === 'ELOOP') return new InputError(`${this.what}: tar entry ${JSON.stringify(entry)}: ${this.firstSymlink(path)} is a symlink (refusing to write through it)`);
      if (e.code === 'ENOTDIR') return new InputError(`${this.what}: tar entry ${JSON.stringify(entry)}: ${path} is not a directory`);
      if (e.code === 'EXDEV') return new InputError(`${this.what}: tar entry ${JSON.stringify(entry)}: path escapes ${this.scope}`);
      if (e.code === 'ENOENT') return new InputError(`${this.what}: tar entry ${JSON.stringify(entry)}: ${path} does not exist in ${this.scope}`);
    }
    return e as Error;
  }

  /** The first component of `path` that is a symlink (for the error message). */
  private firstSymlink(path: string): string {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (lstatSync(proc(this.rootFd, prefix), { throwIfNoEntry: false })?.isSymbolicLink()) return prefix;
    }
    return path;
  }

  invalidate(): void {
    for (const fd of this.cache.values()) closeSync(fd);
    this.cache.clear();
  }
}

type Kind = 'dir' | 'other' | null;
function kindAt(parentFd: number, name: string): Kind {
  const st = lstatSync(proc(parentFd, name), { throwIfNoEntry: false });
  if (!st) return null;
  return st.isDirectory() ? 'dir' : 'other';
}

/** Remove `name` in `parentFd` (a whole tree for a directory), never following a symlink. */
export function removeAt(parentFd: number, name: string, what: string): void {
  const st = lstatSync(proc(parentFd, name), { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) {
    unlinkat(parentFd, name, 0, what);
    return;
  }
  const fd = openat2(parentFd, name, O_PATH | O_DIRECTORY | O_CLOEXEC, BENEATH, 0, what);
  try {
    for (const child of readdirSync(proc(fd))) removeAt(fd, child, `${what}/${child}`);
  } finally {
    closeSync(fd);
  }
  unlinkat(parentFd, name, AT_REMOVEDIR, what);
}

function writeAll(fd: number, chunk: Buffer): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}

/** xattrs an archive may not set: overlayfs's own (opaque, redirect, metacopy…) are ours to write. */
function allowedXattr(name: string): boolean {
  return !name.startsWith('trusted.overlay.') && !name.startsWith('user.overlay.');
}

const nsOf = (d: Date) => BigInt(Math.max(0, d.getTime())) * 1_000_000n;

/**
 * Extract `entries` into the directory `dest` (which must exist and be ours). `what` names
 * the archive in errors. Throws an InputError on anything hostile; the caller discards `dest`.
 */
export async function extractTree(entries: AsyncIterable<TarEntry>, dest: string, what: string, opts: ExtractOptions = {}): Promise<ExtractStats> {
  const rootFd = openat2(-100, dest, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, dest);
  const scope = opts.copy ? 'the destination' : 'the layer';
  const tree = new Tree(rootFd, what, scope);
  const dirTimes: { key: string; mtime: Date }[] = [];
  const stats: ExtractStats = { size: 0, entries: 0 };
  /** Remove what an earlier entry left at `name`; the parent's fd again (a removed directory drops the cache). */
  const clear = (parentParts: string[], parentFd: number, name: string, display: string, entry: string): number => {
    const k = kindAt(parentFd, name);
    if (k === null) return parentFd;
    removeAt(parentFd, name, display);
    if (k !== 'dir') return parentFd;
    tree.invalidate();
    return tree.dir(parentParts, true, entry);
  };
  try {
    for await (const { header, body } of entries) {
      stats.entries++;
      const h = opts.owner ? { ...header, uid: opts.owner.uid, gid: opts.owner.gid } : header;
      const parts = entryParts(h.name, what, scope);
      const display = parts.join('/') || '.';
      if (opts.copy && parts.length === 0) {
        // docker: the archive's "./" leaves an existing destination as it is.
        if (h.type !== 'directory') throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: the root is not a directory`);
        continue;
      }
      if (opts.barriers?.size) {
        const key = parts.join('/');
        if (opts.barriers.has(key) && h.type === 'directory') continue; // the mount point itself: left as it is
        for (const [b, label] of opts.barriers) {
          if (key === b || key.startsWith(`${b}/`)) throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: ${label} is a mount point (copy into it directly)`);
        }
      }
      if (parts.length === 0) {
        if (h.type !== 'directory') throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: the root is not a directory`);
        fchownat(rootFd, '.', h.uid, h.gid, 0, '.');
        fchmodat(rootFd, '.', h.mode & 0o7777, '.');
        setXattrs(h, proc(rootFd), what, display);
        dirTimes.push({ key: '', mtime: h.mtime });
        continue;
      }
      const name = parts[parts.length - 1]!;
      const parentParts = parts.slice(0, -1);
      const parentFd = tree.dir(parentParts, true, h.name);

      // Whiteouts (a layer's; in a copy, `.wh.x` is a file like any other).
      if (!opts.copy && name.startsWith(WHITEOUT_PREFIX)) {
        if (name === WHITEOUT_OPAQUE) {
          lsetxattr(proc(parentFd), OVERLAY_OPAQUE_XATTR, Buffer.from('y'), 0, parentParts.join('/') || '.');
          continue;
        }
        if (name.startsWith(WHITEOUT_META_PREFIX)) continue; // aufs bookkeeping (.wh..wh.plnk …): no meaning here
        const target = name.slice(WHITEOUT_PREFIX.length);
        if (target === '' || target === '.' || target === '..') {
          throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: invalid whiteout name`);
        }
        const pfd = clear(parentParts, parentFd, target, display, h.name);
        mknodat(pfd, target, S_IFCHR, 0, 0, display);
        fchownat(pfd, target, h.uid, h.gid, AT_SYMLINK_NOFOLLOW, display);
        continue;
      }

      const existing = kindAt(parentFd, name);
      if (opts.copy) {
        // docker's NoOverwriteDirNonDir: a copy merges directories and replaces files, never one by the other.
        if (existing === 'dir' && h.type !== 'directory') throw new InputError(`${what}: cannot overwrite directory ${display} with non-directory`);
        if (existing === 'other' && h.type === 'directory') throw new InputError(`${what}: cannot overwrite non-directory ${display} with directory`);
      }
      if (h.type === 'directory') {
        if (existing === 'other') removeAt(parentFd, name, display);
        if (existing !== 'dir') mkdirat(parentFd, name, 0o700, display);
        fchownat(parentFd, name, h.uid, h.gid, AT_SYMLINK_NOFOLLOW, display);
        fchmodat(parentFd, name, h.mode & 0o7777, display);
        setXattrs(h, proc(parentFd, name), what, display);
        dirTimes.push({ key: parts.join('/'), mtime: h.mtime });
        continue;
      }
      if (h.type === 'link') {
        const tparts = entryParts(h.linkname ?? '', what, scope);
        if (tparts.length === 0) throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: hardlink to the layer's root`);
        const tname = tparts[tparts.length - 1]!;
        const tparent = tree.dir(tparts.slice(0, -1), false, h.name);
        const tkind = kindAt(tparent, tname);
        if (tkind === null) throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: hardlink target ${tparts.join('/')} is not in the layer`);
        if (tkind === 'dir') throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: hardlink to a directory`);
        if (tparts.join('/') === parts.join('/')) continue;
        if (parts.join('/').startsWith(tparts.join('/') + '/')) throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: hardlink inside its own target`);
        const pfd = clear(parentParts, parentFd, name, display, h.name);
        const tfd = tree.dir(tparts.slice(0, -1), false, h.name);
        linkat(tfd, tname, pfd, name, display);
        continue;
      }
      const parentAgain = clear(parentParts, parentFd, name, display, h.name);
      switch (h.type) {
        case 'file':
        case 'contiguous-file': {
          const fd = openat(parentAgain, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600, display);
          try {
            let n = 0;
            for await (const chunk of body) {
              try {
                writeAll(fd, chunk);
              } catch (e) {
                throw systemError(`${what}: write ${display}`, e); // a full disk names what it refused
              }
              n += chunk.length;
            }
            if (n !== h.size) throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: truncated (${n} of ${h.size} bytes)`);
            fchownSync(fd, h.uid, h.gid);
            fchmodSync(fd, h.mode & 0o7777);
            for (const [k, v] of headerXattrs(h)) if (allowedXattr(k)) fsetxattr(fd, k, v, 0, display);
            futimesSync(fd, h.mtime, h.mtime);
          } finally {
            closeSync(fd);
          }
          stats.size += h.size;
          break;
        }
        case 'symlink': {
          if (!h.linkname) throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: symlink without a target`);
          symlinkat(h.linkname, parentAgain, name, display);
          fchownat(parentAgain, name, h.uid, h.gid, AT_SYMLINK_NOFOLLOW, display);
          setXattrs(h, proc(parentAgain, name), what, display);
          utimensat(parentAgain, name, nsOf(h.mtime), nsOf(h.mtime), AT_SYMLINK_NOFOLLOW, display);
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          const type = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
          mknodat(parentAgain, name, type | (h.mode & 0o7777), h.devmajor ?? 0, h.devminor ?? 0, display);
          fchownat(parentAgain, name, h.uid, h.gid, AT_SYMLINK_NOFOLLOW, display);
          fchmodat(parentAgain, name, h.mode & 0o7777, display);
          setXattrs(h, proc(parentAgain, name), what, display);
          utimensat(parentAgain, name, nsOf(h.mtime), nsOf(h.mtime), AT_SYMLINK_NOFOLLOW, display);
          break;
        }
        default:
          throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: unsupported entry type ${String(h.type)}`);
      }
    }
    tree.invalidate();
    // Directories' mtimes last, deepest first (an entry written into one changes its mtime).
    for (let i = dirTimes.length - 1; i >= 0; i--) {
      const { key, mtime } = dirTimes[i]!;
      let fd: number;
      try {
        fd = openat2(rootFd, key || '.', O_RDONLY | O_DIRECTORY | O_CLOEXEC, BENEATH);
      } catch {
        continue; // replaced by a later entry (whiteout, file): nothing to date
      }
      try {
        futimesSync(fd, mtime, mtime);
      } finally {
        closeSync(fd);
      }
    }
    return stats;
  } catch (e) {
    if (e instanceof KernelError) throw new InputError(`${what}: ${e.message}`);
    throw e;
  } finally {
    tree.invalidate();
    closeSync(rootFd);
  }
}

function setXattrs(h: TarHeader, path: string, what: string, display: string): void {
  for (const [k, v] of headerXattrs(h)) {
    if (!allowedXattr(k)) continue;
    try {
      lsetxattr(path, k, v, 0, display);
    } catch (e) {
      // user.* xattrs are not allowed on symlinks and devices; docker skips them too.
      if (e instanceof KernelError && (e.code === 'EPERM' || e.code === 'ENOTSUP') && k.startsWith('user.')) continue;
      throw new InputError(`${what}: ${(e as Error).message}`);
    }
  }
}
