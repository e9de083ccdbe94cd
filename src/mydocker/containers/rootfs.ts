// A container's root filesystem: overlayfs over the image's layers, mounted in the host's mount
// namespace at <container dir>/merged while the container runs (and for export/commit/cp).
//
//   lowerdir = init : image layers (top-most first)   read-only, shared by every container
//   upperdir = upper, workdir = work                   the container's own writes
//
// `init` is the container's own thin layer (docker's "-init" layer): empty stubs for the paths
// the runtime mounts over (/etc/hosts, /etc/hostname, /etc/resolv.conf, /dev, /proc, /sys…),
// so that creating those mount points never lands in the upper dir — a commit then contains
// only what the container's processes changed.
import { closeSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { KernelError } from '../../kernel/ffi.js';
import { mount, MS_PRIVATE } from '../../kernel/mount.js';
import { MydockerError } from '../errors.js';
import { isMountpoint, unmountUnder } from '../fs/mounts.js';

export interface RootfsDirs {
  init: string;
  upper: string;
  work: string;
  merged: string;
}

export function rootfsDirs(containerDir: string): RootfsDirs {
  return {
    init: join(containerDir, 'init'),
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

/** Make the container's dirs and its init layer (once, at creation). */
export function createRootfsDirs(dirs: RootfsDirs, lowersBottomFirst: string[]): void {
  for (const d of [dirs.init, dirs.upper, dirs.work, dirs.merged]) mkdirSync(d, { recursive: true, mode: 0o755 });
  const top = [...lowersBottomFirst].reverse();
  for (const rel of STUB_DIRS) {
    // A path the image makes a symlink (or a file) is left to the image: a stub directory would
    // hide the image's entry.
    const first = rel.split('/')[0]!;
    const e = imageEntry(top, first);
    if (e && !e.isDirectory()) continue;
    const sub = imageEntry(top, rel);
    if (sub && !sub.isDirectory()) continue;
    mkdirSync(join(dirs.init, rel), { recursive: true, mode: 0o755 });
  }
  const etc = imageEntry(top, 'etc');
  if (etc && !etc.isDirectory()) return;
  for (const rel of STUB_FILES) {
    const e = imageEntry(top, rel);
    if (e && !e.isFile()) continue;
    closeSync(openSync(join(dirs.init, rel), 'a', 0o644));
  }
}

/** One page: the kernel's limit for mount(2)'s data string. */
const MAX_OPTIONS = 4095;

/** The image's layers as the store gives them: top-most first, maybe relative to `cwd`. */
export interface ImageLower {
  lowerdir: string;
  cwd?: string;
}

export function overlayOptions(dirs: RootfsDirs, image: ImageLower): string {
  return `lowerdir=${dirs.init}:${image.lowerdir},upperdir=${dirs.upper},workdir=${dirs.work}`;
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
