// A container's root filesystem: overlayfs over the image's layers, mounted in the host's mount
// namespace at <container dir>/merged while the container runs (and for export/commit/cp).
//
//   lowerdir = init : image layers (top-most first)   read-only, shared by every container
//   upperdir = upper, workdir = work                   the container's own writes
//
// `init` is a thin layer (docker's "-init" layer) of empty stubs for the paths the runtime
// mounts over (/etc/hosts, /etc/hostname, /etc/resolv.conf, /dev, /proc, /sys…), so that
// creating those mount points never lands in the upper dir — a commit then contains only what
// the container's processes changed. It depends only on the image, so it is made once per
// image (<lib>/layers/init/<image id>) and shared read-only, like the image's own layers.
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KernelError } from '../../kernel/ffi.js';
import { mount, MS_PRIVATE } from '../../kernel/mount.js';
import { MydockerError } from '../errors.js';
import type { Engine } from '../engine.js';
import type { Image } from '../images/types.js';
import { isMountpoint, unmountUnder } from '../fs/mounts.js';

export interface RootfsDirs {
  upper: string;
  work: string;
  merged: string;
}

export function rootfsDirs(containerDir: string): RootfsDirs {
  return {
    upper: join(containerDir, 'upper'),
    work: join(containerDir, 'work'),
    merged: join(containerDir, 'merged'),
  };
}

const STUB_DIRS = ['dev', 'dev/pts', 'dev/shm', 'proc', 'sys', 'etc'];
const STUB_FILES = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf'];

/** The top-most layer's entry for `rel` ("etc"), or null: the image's view of that path. */
function imageEntry(lowersTopFirst: string[], rel: string) {
  for (const l of lowersTopFirst) {
    try {
      return lstatSync(join(l, rel));
    } catch {
      /* not in this layer */
    }
  }
  return null;
}

/** The container's own dirs (at creation). */
export function createRootfsDirs(dirs: RootfsDirs): void {
  for (const d of [dirs.upper, dirs.work, dirs.merged]) mkdirSync(d, { recursive: true, mode: 0o755 });
}

/** The stubs of an init layer, in `dir`, for an image whose layers are `lowersBottomFirst`. */
function writeStubs(dir: string, lowersBottomFirst: string[]): void {
  const top = [...lowersBottomFirst].reverse();
  for (const rel of STUB_DIRS) {
    // A path the image makes a symlink (or a file) is left to the image: a stub directory would
    // hide the image's entry.
    const first = rel.split('/')[0]!;
    const e = imageEntry(top, first);
    if (e && !e.isDirectory()) continue;
    const sub = imageEntry(top, rel);
    if (sub && !sub.isDirectory()) continue;
    mkdirSync(join(dir, rel), { recursive: true, mode: 0o755 });
  }
  const etc = imageEntry(top, 'etc');
  if (etc && !etc.isDirectory()) return;
  for (const rel of STUB_FILES) {
    const e = imageEntry(top, rel);
    if (e && !e.isFile()) continue;
    closeSync(openSync(join(dir, rel), 'a', 0o644));
  }
}

/** The image's init layer, made on first use (in a temp dir, renamed into place). */
export function ensureInitLayer(initRoot: string, imageId: string, lowersBottomFirst: string[]): string {
  const dir = join(initRoot, imageId.replace(/^sha256:/, ''));
  if (existsSync(dir)) return dir;
  mkdirSync(initRoot, { recursive: true, mode: 0o755 });
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(16).slice(2)}`;
  try {
    mkdirSync(tmp, { mode: 0o755 });
    writeStubs(tmp, lowersBottomFirst);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (!((code === 'EEXIST' || code === 'ENOTEMPTY') && existsSync(dir))) throw e;
  }
  return dir;
}

/** One page: the kernel's limit for mount(2)'s data string. */
const MAX_OPTIONS = 4095;

/** The image's layers as the store gives them: top-most first, maybe relative to `cwd`. */
export interface ImageLower {
  lowerdir: string;
  cwd?: string;
}

export function overlayOptions(dirs: RootfsDirs, image: ImageLower): string {
  return `lowerdir=${image.lowerdir},upperdir=${dirs.upper},workdir=${dirs.work}`;
}

/** A container's lowerdir for an image: its init layer, then the image's layers. */
export async function containerLower(engine: Engine, image: Image): Promise<ImageLower> {
  const { lowerdir, cwd } = await engine.images.lowerdir(image);
  const init = ensureInitLayer(join(engine.paths.layers, 'init'), image.id, await engine.images.layerDirs(image));
  // An image without layers (a build FROM scratch) is its init layer alone.
  return { lowerdir: lowerdir ? `${init}:${lowerdir}` : init, ...(cwd ? { cwd } : {}) };
}

/** Mount the overlay at merged (no-op when already mounted). */
export function mountRootfs(dirs: RootfsDirs, image: ImageLower): void {
  if (isMountpoint(dirs.merged)) return;
  const data = overlayOptions(dirs, image);
  if (data.length > MAX_OPTIONS) {
    throw new MydockerError(`mount the container's rootfs: the image has too many layers for one overlay mount (options longer than a page)`);
  }
  // Relative layer names (a very deep image) resolve against the mount's working directory.
  const back = image.cwd ? process.cwd() : undefined;
  try {
    if (image.cwd) process.chdir(image.cwd);
    mount('overlay', dirs.merged, 'overlay', 0, data);
  } catch (e) {
    throw new MydockerError(`mount the container's rootfs (overlay on ${dirs.merged}): ${(e as Error).message}`, { cause: e });
  } finally {
    if (back) process.chdir(back);
  }
  // Private: the container's rootfs must not propagate into other mount namespaces.
  try {
    mount(null, dirs.merged, null, MS_PRIVATE, null);
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
}

/** Unmount the rootfs and anything left mounted under the container's directory. */
export function unmountRootfs(containerDir: string): void {
  unmountUnder(containerDir);
}
