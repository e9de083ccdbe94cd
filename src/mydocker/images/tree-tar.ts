// A directory tree as a tar stream: `mydocker export` (a container's filesystem), `commit`
// (an overlay upper dir as an OCI layer), `cp` (one file or directory, under the name it gets
// at the destination) and the embedded default image (deterministic).
//
// The walk opens every directory and file with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_XDEV) from the tree's root fd: a symlink is archived as a symlink and never
// followed (a container cannot make us read a host file), and another filesystem mounted
// inside the tree is not part of it. In `overlay` mode the upper dir's whiteouts become OCI
// ones: a 0/0 character device NAME → an empty `.wh.NAME`, a directory with
// trusted.overlay.opaque=y → the directory and `.wh..wh..opq` in it.
import { closeSync, fstatSync, lstatSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_RDONLY, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV, lgetxattr, llistxattr, openat2 } from '../../kernel/at.js';
import { KernelError } from '../../kernel/ffi.js';
import { InputError } from '../errors.js';
import { OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './extract.js';
import { writeEntry, xattrPax, type TarHeader } from './tar.js';
import type tarStream from 'tar-stream';

const WALK = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

export interface TreeTarOptions {
  /** Paths (absolute in the container, e.g. "/data") whose contents are left out; the directory itself stays. */
  exclude?: string[];
  /** The tree is an overlay upper dir: whiteouts become OCI whiteouts. */
  overlay?: boolean;
  /** Reproducible output: this mtime everywhere, uid/gid 0, no xattrs. */
  deterministic?: { mtime: Date };
  onBytes?(n: number): void;
  /** Paths (relative to the tree) left out entirely, whatever they are (cp: a file a mount hides). */
  omit?: string[];
  /** Names in the archive start with this directory name (cp: the source's name at the destination). */
  prefix?: string;
  /** Names the tree in errors. */
  what?: string;
}

const proc = (fd: number, name?: string) => (name === undefined ? `/proc/self/fd/${fd}/.` : `/proc/self/fd/${fd}/${name}`);

function major(rdev: number): number {
  const d = BigInt(rdev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
}
function minor(rdev: number): number {
  const d = BigInt(rdev);
  return Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
}

function xattrsOf(path: string, what: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of llistxattr(path, what)) {
    if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
    const v = lgetxattr(path, name, what);
    if (v !== null) out.set(name, v);
  }
  return out;
}

function openBeneath(dirFd: number, name: string, flags: number, what: string): number | null {
  try {
    return openat2(dirFd, name, flags | O_CLOEXEC | O_NOFOLLOW, WALK, 0, what);
  } catch (e) {
    // EXDEV: a mount point (not part of this filesystem); ENOENT: gone since we listed it.
    if (e instanceof KernelError && (e.code === 'EXDEV' || e.code === 'ENOENT')) return null;
    throw e;
  }
}

/** A file's content, exactly `size` bytes (zero-padded if it shrank while read, cut if it grew). */
async function* fileData(fd: number, size: number, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  let left = size;
  let pos = 0;
  while (left > 0) {
    const buf = Buffer.allocUnsafe(Math.min(left, 1 << 20));
    let got = readSync(fd, buf, 0, buf.length, pos);
    if (got === 0) {
      buf.fill(0);
      got = buf.length;
    }
    pos += got;
    left -= got;
    onBytes?.(got);
    yield buf.subarray(0, got);
  }
}

/** Write `dir`'s tree (not the root itself) into `pack`, sorted by name. Does not finalize. */
export async function packTree(dir: string, pack: tarStream.Pack, opts: TreeTarOptions = {}): Promise<void> {
  const rootFd = openat2(-100, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, dir);
  try {
    await packer(pack, opts, opts.what ?? dir).walk(rootFd, '');
  } finally {
    closeSync(rootFd);
  }
}

/**
 * `cp`: one item — `name` in the directory `dirFd` ('.' for that directory itself) — as
 * `opts.prefix` in the archive: a directory with its own entry and its tree, anything else
 * (a file, a symlink, never followed) as itself. With an empty prefix a directory's contents
 * only (docker's `SRC/.`). Does not finalize.
 */
export async function packItem(dirFd: number, name: string, pack: tarStream.Pack, opts: TreeTarOptions & { prefix: string }): Promise<void> {
  const p = packer(pack, opts, opts.what ?? name);
  if (opts.prefix !== '') {
    await p.entry(dirFd, name, '');
    return;
  }
  const fd = openBeneath(dirFd, name, O_RDONLY | O_DIRECTORY, opts.what ?? name);
  if (fd === null) return;
  try {
    await p.walk(fd, '');
  } finally {
    closeSync(fd);
  }
}

/**
 * The walk. `rel` is a path relative to the packed tree (what `exclude`/`omit` name); in the
 * archive it is `prefix/rel` (`prefix` alone for the tree's own entry, rel '').
 */
function packer(pack: tarStream.Pack, opts: TreeTarOptions, what: string) {
  const norm = (ps: string[] | undefined) => new Set((ps ?? []).map((p) => p.split('/').filter((c) => c && c !== '.').join('/')).filter((p) => p !== ''));
  const excluded = norm(opts.exclude);
  const omitted = norm(opts.omit);
  const links = new Map<string, string>(); // "dev:ino" → first name in the archive (hardlinks)
  const det = opts.deterministic;
  const prefix = opts.prefix ?? '';
  const tarName = (rel: string) => (prefix && rel ? `${prefix}/${rel}` : prefix || rel);

  const base = (rel: string, st: Stats): Omit<TarHeader, 'type'> => ({
    name: tarName(rel),
    mode: st.mode & 0o7777,
    uid: det ? 0 : st.uid,
    gid: det ? 0 : st.gid,
    size: 0,
    mtime: det ? det.mtime : st.mtime,
  });

  const walk = async (dirFd: number, dirRel: string): Promise<void> => {
    const names = readdirSync(proc(dirFd)).sort();
    for (const name of names) await entry(dirFd, name, dirRel ? `${dirRel}/${name}` : name);
  };

  const entry = async (dirFd: number, name: string, rel: string): Promise<void> => {
    if (omitted.has(rel)) return;
    const path = proc(dirFd, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return;
    const xattrs = det ? new Map<string, Buffer>() : xattrsOf(path, `${what}/${rel}`);
    const pax = xattrPax(xattrs);
    if (st.isDirectory()) {
      const fd = openBeneath(dirFd, name, O_RDONLY | O_DIRECTORY, `${what}/${rel}`);
      if (fd === null) return; // a mount point
      try {
        if (opts.overlay) {
          if (lgetxattr(path, 'trusted.overlay.redirect') !== null) {
            throw new InputError(`${what}/${rel}: renamed inside the container (overlay redirect_dir): cannot be expressed as a layer`);
          }
        }
        await writeEntry(pack, { ...base(rel, st), type: 'directory', pax: pax ?? null });
        if (opts.overlay && lgetxattr(path, OVERLAY_OPAQUE_XATTR)?.toString() === 'y') {
          await writeEntry(pack, { ...base(`${rel}/${WHITEOUT_OPAQUE}`, st), mode: 0o644, type: 'file' });
        }
        if (!excluded.has(rel)) await walk(fd, rel);
      } finally {
        closeSync(fd);
      }
      return;
    }
    if (st.isCharacterDevice() && opts.overlay && st.rdev === 0) {
      const slash = rel.lastIndexOf('/');
      const wh = slash >= 0 ? `${rel.slice(0, slash)}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`;
      await writeEntry(pack, { ...base(wh, st), type: 'file' });
      return;
    }
    if (st.isSymbolicLink()) {
      await writeEntry(pack, { ...base(rel, st), type: 'symlink', linkname: readlinkSync(path), pax: pax ?? null });
      return;
    }
    if (st.isSocket()) return; // docker skips sockets too
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        await writeEntry(pack, { ...base(rel, st), type: 'link', linkname: first });
        return;
      }
      links.set(key, tarName(rel));
    }
    if (st.isFile()) {
      if (opts.overlay && lgetxattr(path, 'trusted.overlay.metacopy') !== null) {
        throw new InputError(`${what}/${rel}: an overlay metacopy file (metacopy=on): cannot be expressed as a layer`);
      }
      const fd = openBeneath(dirFd, name, O_RDONLY, `${what}/${rel}`);
      if (fd === null) return;
      try {
        const size = fstatSync(fd).size;
        await writeEntry(pack, { ...base(rel, st), type: 'file', size, pax: pax ?? null }, fileData(fd, size, opts.onBytes));
      } finally {
        closeSync(fd);
      }
      return;
    }
    const type = st.isCharacterDevice() ? 'character-device' : st.isBlockDevice() ? 'block-device' : st.isFIFO() ? 'fifo' : null;
    if (type === null) return;
    await writeEntry(pack, { ...base(rel, st), type, devmajor: major(st.rdev), devminor: minor(st.rdev), pax: pax ?? null });
  };

  return { walk, entry };
}
