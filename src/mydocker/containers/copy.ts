// `cp`: files between a container and the host, with docker's rules (which SRC names what
// lands where, trailing "/" and "/.", -L, -a) — and without ever writing outside the side
// being written:
//
//   - Container paths are resolved here, one component at a time, as the container sees them:
//     each step is an openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) of a single name from the
//     directory fd reached so far; a symlink is read and its target walked again from the
//     container's root (absolute) or from where it was found (relative), ".." pops our own
//     stack of fds and stops at the root. The container's symlinks can only ever lead to
//     another of its own files, even while it changes them under us (nothing is re-resolved
//     by path on the host).
//   - The walk sees the container's mounts as it does: a volume or bind mount takes over at its
//     destination (its host Source is what is read or written, as docker copies into
//     volumes); /etc/hosts, /etc/hostname and /etc/resolv.conf are mydocker's files; a tmpfs
//     exists only inside the running container, so a path in one is refused.
//   - What is written, on either side, goes through the layer extractor in copy mode
//     (images/extract.ts: no component of an entry's path may be a symlink, no ".." or
//     absolute name, the final component created with O_EXCL | O_NOFOLLOW), so neither a
//     container's tar nor a hostile stdin can write outside the destination directory.
//   - A stopped container's rootfs is mounted for the copy and unmounted after, under the
//     container's lock (as `export` does), so a `start` meanwhile waits.
import { closeSync, fstatSync, lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, posix, resolve as hostResolve } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type tarStream from 'tar-stream';
import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, openat2 } from '../../kernel/at.js';
import { KernelError } from '../../kernel/ffi.js';
import { crashPoint } from '../crash.js';
import type { Engine } from '../engine.js';
import { InputError, MydockerError } from '../errors.js';
import { extractTree } from '../images/extract.js';
import { readTar, tarWriter } from '../images/tar.js';
import { packItem } from '../images/tree-tar.js';
import { isMountpoint } from '../fs/mounts.js';
import type { ContainerRecord } from './record.js';
import { containerLower, mountRootfs, rootfsDirs, unmountRootfs } from './rootfs.js';
import { liveState } from './status.js';

/** One side of a copy, as docker splits its arguments. */
export type Endpoint = { container: string; path: string } | { host: string };

/**
 * docker's splitCpArg: `NAME:PATH` names a container unless the argument is an absolute path
 * or starts with "." (`./a:b` is a local file); anything else is a host path ("-": stdio).
 */
export function parseEndpoint(arg: string): Endpoint {
  if (arg.startsWith('/')) return { host: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { host: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

export interface CopyRequest {
  src: string;
  dst: string;
  /** -a: keep the source's uid/gid when copying in (default: root, docker's rule). */
  archive?: boolean;
  /** -L: a symlink at SRC is followed (the copy is named as the link). */
  followLink?: boolean;
  /** For "-": where a copy-in's tar comes from and a copy-out's goes (default: process stdio). */
  stdin?: Readable;
  stdout?: Writable;
}

export interface CopyResult {
  /** Bytes of the tar stream that went across (what docker's "Successfully copied" reports). */
  bytes: number;
  /** The destination as docker names it in that line; null when it went to stdout. */
  to: string | null;
}

/** A path as docker reads it: what it names, and what its end asserts. */
interface PathSpec {
  /** Cleaned, without a trailing "/" or "/." ("/" for the root). */
  path: string;
  /** Ends with "/" or "/.": must be a directory (and a final symlink is followed). */
  assertsDir: boolean;
  /** Ends with "/." (or is "."/"/"): the directory's contents, not the directory. */
  contents: boolean;
}

/** docker's rule: a container path is relative to "/", cleaned lexically, its trailing "/" or "/." kept as meaning. */
export function containerPath(raw: string): PathSpec {
  const contents = raw === '.' || raw.endsWith('/.') || posix.normalize(`/${raw}`) === '/';
  const assertsDir = contents || raw.endsWith('/');
  const path = posix.normalize(`/${raw}`).replace(/\/+$/, '') || '/';
  return { path, assertsDir, contents };
}

// ---------------------------------------------------------------------------------------------
// The container's filesystem as the container sees it.

const STEP = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
const MAX_LINKS = 40; // the kernel's own limit
const proc = (fd: number, name = '.') => `/proc/self/fd/${fd}/${name}`;

interface ViewMount {
  /** Where it is in the container: its destination resolved as the runtime resolves mount targets. */
  at: string[];
  destination: string;
  kind: 'bind' | 'volume' | 'file' | 'tmpfs' | 'missing';
  rw: boolean;
  /** Its host side: `name` in the directory `dirFd` ('.' for a directory mount itself). */
  dirFd: number;
  name: string;
  /** For messages: "volume v1", "bind mount /srv/x", "tmpfs". */
  label: string;
}

/** A file or directory in the view: `name` in the directory `dirFd`. */
interface Item {
  at: string[];
  dirFd: number;
  name: string;
  st: Stats;
  /** The filesystem it is on: a mount, or null for the container's rootfs. */
  mount: ViewMount | null;
}

interface Frame {
  name: string;
  /** The item's own fd when it is a directory, else -1. */
  fd: number;
  parentFd: number;
  entry: string;
  mount: ViewMount | null;
}

const atPath = (at: string[]) => `/${at.join('/')}`;
const isUnder = (at: string[], dir: string[]) => at.length > dir.length && dir.every((c, i) => at[i] === c);

export class ContainerView {
  private fds = new Set<number>();
  private readonly rootFd: number;
  readonly mounts: ViewMount[] = [];

  constructor(
    merged: string,
    private rec: ContainerRecord,
    containerDir: string,
  ) {
    this.rootFd = this.track(openat2(-100, merged, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, merged));
    // The runtime's order (spec.ts): by depth of the destination, stable; each target resolved
    // in the rootfs as it stands with the earlier mounts in place.
    const pending: { destination: string; make: () => Omit<ViewMount, 'at' | 'destination'> }[] = [];
    const tmpfs = () => ({ kind: 'tmpfs' as const, rw: true, dirFd: -1, name: '.', label: 'tmpfs' });
    pending.push({ destination: '/dev/shm', make: tmpfs });
    for (const d of Object.keys(rec.HostConfig.Tmpfs)) pending.push({ destination: d, make: tmpfs });
    const cdir = this.track(openat2(-100, containerDir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, containerDir));
    for (const [dest, file] of [['/etc/resolv.conf', 'resolv.conf'], ['/etc/hostname', 'hostname'], ['/etc/hosts', 'hosts']] as const) {
      // Written at the first start; before it the image's (empty stub) file is what there is.
      if (lstatSync(proc(cdir, file), { throwIfNoEntry: false })?.isFile()) {
        pending.push({ destination: dest, make: () => ({ kind: 'file', rw: true, dirFd: cdir, name: file, label: `${dest} (mydocker's file)` }) });
      }
    }
    for (const m of rec.Mounts) {
      if (m.Type === 'tmpfs') {
        pending.push({ destination: m.Destination, make: tmpfs });
        continue;
      }
      const label = m.Type === 'volume' ? `volume ${m.Name}` : `bind mount ${m.Source}`;
      pending.push({ destination: m.Destination, make: () => this.hostSide(m.Source, m.Type === 'volume' ? 'volume' : 'bind', m.RW, label) });
    }
    const depth = (d: string) => d.split('/').filter(Boolean).length;
    pending.sort((a, b) => depth(a.destination) - depth(b.destination));
    for (const p of pending) {
      const at = this.walk(p.destination, true, true);
      if (at === null) continue;
      this.mounts.push({ ...p.make(), at: at.at, destination: p.destination });
    }
  }

  private track(fd: number): number {
    this.fds.add(fd);
    return fd;
  }

  /** A mount's host side: a directory, or the directory holding a bind-mounted file. */
  private hostSide(source: string, kind: 'bind' | 'volume', rw: boolean, label: string): Omit<ViewMount, 'at' | 'destination'> {
    const st = statSync(source, { throwIfNoEntry: false });
    if (!st) return { kind: 'missing', rw, dirFd: -1, name: '.', label };
    if (st.isDirectory()) return { kind, rw, dirFd: this.track(openat2(-100, source, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, source)), name: '.', label };
    const dir = dirname(source);
    return { kind: 'file', rw, dirFd: this.track(openat2(-100, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, dir)), name: basename(source), label };
  }

  /** The mount at exactly `at` (the last of those stacked there), if any. */
  private mountAt(at: string[]): ViewMount | undefined {
    const key = at.join('/');
    let found: ViewMount | undefined;
    for (const m of this.mounts) if (m.at.join('/') === key) found = m;
    return found;
  }

  /** Mounts strictly below `at`, shallowest first. */
  mountsUnder(at: string[]): ViewMount[] {
    return this.mounts.filter((m) => isUnder(m.at, at));
  }

  /**
   * Resolve a container path. `follow`: a final symlink is followed too (else it is the item).
   * Null when something on the way does not exist.
   */
  resolve(path: string, follow: boolean): Item | null {
    const r = this.walk(path, follow, false);
    if (r === null) return null;
    const st = lstatSync(proc(r.top.parentFd, r.top.entry), { throwIfNoEntry: false });
    if (!st) return null; // gone meanwhile
    return { at: r.at, dirFd: r.top.parentFd, name: r.top.entry, st, mount: r.top.mount };
  }

  /** An O_PATH fd of the directory `item` (one of ours: closed with the view). */
  dirFd(item: Item): number {
    const top = item.name === '.' ? item.dirFd : this.track(openat2(item.dirFd, item.name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, STEP));
    return top;
  }

  /**
   * The walk. `loose` (for mount targets, which the runtime creates where missing): a missing
   * component ends the walk with the rest of the path taken as written.
   */
  private walk(path: string, follow: boolean, loose: false): { at: string[]; top: Frame } | null;
  private walk(path: string, follow: boolean, loose: true): { at: string[] } | null;
  private walk(path: string, follow: boolean, loose: boolean): { at: string[]; top?: Frame } | null {
    const root: Frame = { name: '', fd: this.rootFd, parentFd: this.rootFd, entry: '.', mount: null };
    const stack: Frame[] = [root];
    const at = () => stack.slice(1).map((f) => f.name);
    let todo = path.split('/').filter((c) => c !== '' && c !== '.');
    let links = 0;
    while (todo.length) {
      const c = todo.shift()!;
      if (c === '.' || c === '') continue;
      if (c === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const top = stack[stack.length - 1]!;
      const here = [...at(), c];
      const rest = () => [...here, ...todo.filter((x) => x !== '' && x !== '.' && x !== '..')];
      if (top.fd < 0) {
        if (loose) return { at: rest() };
        throw new InputError(`${atPath(at())}: not a directory`);
      }
      const m = this.mountAt(here);
      if (m) {
        if (m.kind === 'tmpfs' || m.kind === 'missing') {
          if (loose) return { at: rest() };
          if (m.kind === 'missing') throw new InputError(`${atPath(here)}: the source of its ${m.label} does not exist`);
          throw new InputError(`${atPath(here)} is on a tmpfs mount: it exists only inside the running container`);
        }
        stack.push({ name: c, fd: m.name === '.' ? m.dirFd : -1, parentFd: m.dirFd, entry: m.name, mount: m });
        continue;
      }
      let fd: number;
      try {
        fd = openat2(top.fd, c, O_PATH | O_NOFOLLOW | O_CLOEXEC, STEP, 0, atPath(here));
      } catch (e) {
        if (e instanceof KernelError && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) {
          if (loose) return { at: rest() };
          return null;
        }
        throw e;
      }
      const st = fstatSync(fd);
      if (st.isSymbolicLink() && (todo.length > 0 || follow)) {
        closeSync(fd);
        if (++links > MAX_LINKS) throw new InputError(`${path}: too many levels of symbolic links`);
        const target = readlinkSync(proc(top.fd, c));
        if (target.startsWith('/')) stack.length = 1;
        todo = [...target.split('/'), ...todo];
        continue;
      }
      this.track(fd);
      stack.push({ name: c, fd: st.isDirectory() ? fd : -1, parentFd: top.fd, entry: c, mount: top.mount });
    }
    return { at: at(), top: stack[stack.length - 1]! };
  }

  close(): void {
    for (const fd of this.fds) closeSync(fd);
    this.fds.clear();
  }
}

/**
 * Run `fn` on the container's filesystem: a stopped container's rootfs is mounted for it and
 * unmounted after, all under the container's lock (a `start` or `rm` meanwhile waits).
 */
export async function withContainerView<T>(engine: Engine, id: string, fn: (view: ContainerView, rec: ContainerRecord) => Promise<T>): Promise<T> {
  const cdir = engine.containers.path(id);
  const dirs = rootfsDirs(cdir);
  const unlock = engine.containers.lock(id);
  if (!unlock) throw new MydockerError(`No such container: ${id}`);
  let view: ContainerView | undefined;
  try {
    const rec = engine.containers.read(id);
    if (!isMountpoint(dirs.merged)) {
      const image = engine.findImage(rec.ImageId);
      if (!image) throw new MydockerError(`container ${rec.Name}: its image ${rec.ImageId} is gone`);
      mountRootfs(dirs, await containerLower(engine, image));
    }
    // Killed from here on, the mount stays: the next `cp`/`export` (below), `start` or `rm`
    // takes it down.
    crashPoint('cp:mounted');
    view = new ContainerView(dirs.merged, rec, cdir);
    return await fn(view, rec);
  } finally {
    view?.close();
    // Not only what we mounted: a mount that a killed cp or export left on a stopped container
    // goes too. A container the runtime still knows (running, or created and about to start,
    // or exited with its cleanup pending) keeps its rootfs: the monitor's cleanup owns it.
    try {
      const rec = engine.containers.read(id);
      if (!liveState(engine, rec).Running && engine.runtime.status(id) === null) unmountRootfs(cdir);
    } finally {
      unlock();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The copy.

/** Run a tar producer into a consumer; both settle before this returns. The stream's size in bytes. */
export async function throughTar(produce: (pack: tarStream.Pack) => Promise<void>, consume: (tar: Readable) => Promise<unknown>): Promise<number> {
  const pack = tarWriter();
  const tar = new PassThrough({ highWaterMark: 1 << 20 });
  let bytes = 0;
  tar.on('data', (c: Buffer) => (bytes += c.length));
  pack.pipe(tar);
  pack.on('error', (e) => tar.destroy(e));
  const consumed = consume(tar);
  // A consumer that failed reads no more: stop the producer rather than leave it waiting.
  consumed.catch((e: unknown) => pack.destroy(e as Error));
  const produced = produce(pack).then(
    () => pack.finalize(),
    (e: unknown) => {
      pack.destroy(e as Error);
      throw e;
    },
  );
  const [c, p] = await Promise.allSettled([consumed, produced]);
  if (c.status === 'rejected') throw c.reason;
  if (p.status === 'rejected') throw p.reason;
  return bytes;
}

/** Tar bytes through `tar` without a data listener (`readTar` pipes it). */
function counted(input: Readable): { stream: Readable; bytes: () => number } {
  let n = 0;
  const pass = new PassThrough({ highWaterMark: 1 << 20 });
  input.on('data', (c: Buffer) => (n += c.length));
  input.pipe(pass);
  input.on('error', (e) => pass.destroy(e));
  return { stream: pass, bytes: () => n };
}

/** Pack `item` as `name` (''; its contents), with what the container's mounts below it hold. */
async function packContainerItem(view: ContainerView, item: Item, name: string, pack: tarStream.Pack, what: string): Promise<void> {
  const rel = (m: ViewMount, base: string[]) => m.at.slice(base.length).join('/');
  const below = item.st.isDirectory() ? view.mountsUnder(item.at) : [];
  // Under a mount point the rootfs has only the (empty) directory or stub file the mount hides.
  const hide = (ms: ViewMount[], base: string[]) => ({
    exclude: ms.filter((m) => m.kind !== 'file').map((m) => rel(m, base)),
    omit: ms.filter((m) => m.kind === 'file').map((m) => rel(m, base)),
  });
  await packItem(item.dirFd, item.name, pack, { prefix: name, what, ...hide(below, item.at) });
  for (const m of below) {
    if (m.kind === 'tmpfs' || m.kind === 'missing') continue; // nothing of it is on the host
    const prefix = [name, rel(m, item.at)].filter(Boolean).join('/');
    await packItem(m.dirFd, m.name, pack, { prefix, what, ...hide(view.mountsUnder(m.at), m.at) });
  }
}

export async function copy(engine: Engine, req: CopyRequest): Promise<CopyResult> {
  const src = parseEndpoint(req.src);
  const dst = parseEndpoint(req.dst);
  if ('container' in src && 'container' in dst) throw new InputError('copying between containers is not supported');
  if ('container' in src) {
    if (src.path === '') throw new InputError('source can not be empty');
    if ('host' in dst && dst.host === '') throw new InputError('destination can not be empty');
    return copyOut(engine, src, (dst as { host: string }).host, req);
  }
  if ('container' in dst) {
    if (dst.path === '') throw new InputError('destination can not be empty');
    if (src.host === '') throw new InputError('source can not be empty');
    return copyIn(engine, src.host, dst, req);
  }
  throw new InputError('must specify at least one container source');
}

/** docker's "Could not find the file" line. */
const notFound = (path: string, ref: string) => new InputError(`Could not find the file ${path} in container ${ref}`);

// ---- container → host

async function copyOut(engine: Engine, src: { container: string; path: string }, dstRaw: string, req: CopyRequest): Promise<CopyResult> {
  const id = engine.containers.resolve(src.container);
  const sp = containerPath(src.path);
  // The archive's top name: SRC's own name (even through -L: docker's rebase), '' for contents.
  const srcName = sp.contents || sp.path === '/' ? '' : posix.basename(sp.path);
  const what = `${src.container}:${sp.path}`;
  return withContainerView(engine, id, async (view) => {
    const item = view.resolve(sp.path, sp.assertsDir || !!req.followLink);
    if (!item) throw notFound(sp.path, src.container);
    const isDir = item.st.isDirectory();
    if (sp.assertsDir && !isDir) throw new InputError(`${src.container}:${src.path}: not a directory`);
    if (sp.contents && !isDir) throw new InputError(`${src.container}:${src.path}: not a directory`);

    if (dstRaw === '-') {
      const out = req.stdout ?? process.stdout;
      const bytes = await throughTar(
        (pack) => packContainerItem(view, item, srcName, pack, what),
        (tar) => pipeline(tar, out, { end: out !== process.stdout }),
      );
      return { bytes, to: null };
    }

    // docker's PrepareArchiveCopy, on the host: into an existing directory under SRC's name,
    // over an existing file, or as DEST's name in its (existing) parent.
    const dp = hostPathSpec(dstRaw);
    const dstSt = statSync(dp.abs, { throwIfNoEntry: false });
    let dir: string;
    let name: string;
    if (dstSt?.isDirectory()) {
      dir = dp.abs;
      name = srcName;
    } else if (dstSt) {
      if (isDir) throw new InputError(`cannot copy a directory to a file: ${what} to ${dstRaw}`);
      if (dp.assertsDir) throw new InputError(`${dstRaw}: not a directory`);
      dir = dirname(dp.abs);
      name = basename(dp.abs);
    } else {
      if (!isDir && dp.assertsDir) throw new InputError(`no such directory: ${dstRaw}`);
      dir = dirname(dp.abs);
      name = basename(dp.abs);
      const parent = statSync(dir, { throwIfNoEntry: false });
      if (!parent) throw new InputError(`no such directory: ${dir} (the parent of ${dstRaw})`);
      if (!parent.isDirectory()) throw new InputError(`${dir}: not a directory (the parent of ${dstRaw})`);
    }
    const bytes = await throughTar(
      (pack) => packContainerItem(view, item, name, pack, what),
      // As root, what comes out keeps its owners, modes and times (docker's client does the same).
      (tar) => extractTree(readTar(tar, `copy of ${what}`), dir, `copy of ${what} to ${dstRaw}`, { copy: true }),
    );
    return { bytes, to: dstRaw };
  });
}

interface HostPathSpec {
  abs: string;
  assertsDir: boolean;
  contents: boolean;
}

function hostPathSpec(raw: string): HostPathSpec {
  const contents = raw === '.' || raw.endsWith('/.');
  return { abs: hostResolve(raw), assertsDir: contents || raw.endsWith('/'), contents };
}

// ---- host → container

async function copyIn(engine: Engine, srcRaw: string, dst: { container: string; path: string }, req: CopyRequest): Promise<CopyResult> {
  const id = engine.containers.resolve(dst.container);
  const dp = containerPath(dst.path);
  const shown = `${dst.container}:${dp.path}`;

  // The host side first: a missing SRC fails before the container is touched.
  let source: { dirPath: string; name: string; st: Stats; srcName: string } | null = null;
  if (srcRaw !== '-') {
    const sp = hostPathSpec(srcRaw);
    const st = lstatSync(sp.abs, { throwIfNoEntry: false });
    if (!st) throw new InputError(`${srcRaw}: no such file or directory`);
    // Followed: with -L, and when the path says it is a directory ("dir/", "dir/.").
    const real = req.followLink || sp.assertsDir ? realpathSync(sp.abs) : sp.abs;
    const rst = lstatSync(real);
    if (sp.assertsDir && !rst.isDirectory()) throw new InputError(`${srcRaw}: not a directory`);
    const srcName = sp.contents || sp.abs === '/' ? '' : basename(sp.abs);
    source = real === '/' ? { dirPath: '/', name: '.', st: rst, srcName } : { dirPath: dirname(real), name: basename(real), st: rst, srcName };
  }

  return withContainerView(engine, id, async (view, rec) => {
    // DEST: a symlink at it is followed (docker stats it and copies to its target), within the container.
    let path = dp.path;
    let item = view.resolve(path, false);
    for (let i = 0; item?.st.isSymbolicLink(); i++) {
      if (i >= MAX_LINKS) throw new InputError(`${shown}: too many levels of symbolic links`);
      const target = readlinkSync(proc(item.dirFd, item.name));
      path = posix.normalize(target.startsWith('/') ? target : `${posix.dirname(path)}/${target}`);
      item = view.resolve(path, false);
    }
    const dstExists = item !== null;
    const dstIsDir = !!item?.st.isDirectory();
    if (dp.assertsDir && dstExists && !dstIsDir) throw new InputError(`${shown}: not a directory`);

    let targetDir: Item;
    let name: string;
    if (source === null) {
      // A tar from stdin is extracted as it is, into DEST, which must be a directory.
      if (!dstExists) throw notFound(dp.path, dst.container);
      if (!dstIsDir) throw new InputError(`destination "${dst.container}:${dst.path}" must be a directory`);
      targetDir = item!;
      name = '';
    } else {
      const srcIsDir = source.st.isDirectory();
      if (dstIsDir) {
        targetDir = item!;
        name = source.srcName;
      } else {
        if (dstExists && srcIsDir) throw new InputError(`cannot copy a directory to a file: ${srcRaw} to ${shown}`);
        if (!dstExists && !srcIsDir && dp.assertsDir) throw new InputError(`no such directory: ${shown}`);
        const parentPath = posix.dirname(path);
        const parent = view.resolve(parentPath, true);
        if (!parent) throw notFound(parentPath, dst.container);
        if (!parent.st.isDirectory()) throw new InputError(`${dst.container}:${parentPath}: not a directory`);
        targetDir = parent;
        name = posix.basename(path);
      }
    }

    // docker's read-only rules, for where the files land.
    if (targetDir.mount && !targetDir.mount.rw) throw new InputError(`copy to ${shown}: mounted volume is marked read-only (${targetDir.mount.label} at ${targetDir.mount.destination})`);
    if (!targetDir.mount && rec.HostConfig.ReadonlyRootfs) throw new InputError(`copy to ${shown}: container rootfs is marked read-only`);
    // Mount points below the target directory are other filesystems: the extractor does not cross them.
    const barriers = new Map(view.mountsUnder(targetDir.at).map((m) => [m.at.slice(targetDir.at.length).join('/'), m.destination] as const));
    const into = view.dirFd(targetDir);
    const what = `copy to ${shown}`;
    const opts = { copy: true, barriers, ...(req.archive ? {} : { owner: { uid: 0, gid: 0 } }) };
    let bytes: number;
    if (source === null) {
      const input = counted(req.stdin ?? process.stdin);
      await extractTree(readTar(input.stream, 'stdin'), proc(into), what, opts);
      bytes = input.bytes();
    } else {
      const s = source;
      const dirFd = openat2(-100, s.dirPath, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, s.dirPath);
      try {
        bytes = await throughTar(
          (pack) => packItem(dirFd, s.name, pack, { prefix: name, what: srcRaw }),
          (tar) => extractTree(readTar(tar, `copy of ${srcRaw}`), proc(into), what, opts),
        );
      } finally {
        closeSync(dirFd);
      }
    }
    return { bytes, to: `${dst.container}:${path}` };
  });
}

