// Executing the rootfs plan inside the init's mount namespace: propagation, the rootfs bind,
// the config's mounts in order, device nodes, pivot_root, masked and read-only paths.
//
// Everything here runs in the init (PID 1 of the container, before execve) on Node's main
// thread, with synchronous calls only (the libuv threadpool still lives in the host's mount
// namespace).
import { closeSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, unlinkSync, chownSync, chmodSync } from 'node:fs';
import { RuntimeError, withContext, wrap } from '../errors.js';
import { KernelError } from '../kernel/ffi.js';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../kernel/files.js';
import {
  chdir,
  chroot,
  MNT_DETACH,
  mount,
  MS_BIND,
  MS_MOVE,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SLAVE,
  mountSetattrRecursive,
  pivotRoot,
  umount2,
} from '../kernel/mount.js';
import { mountFlagsOf } from '../kernel/statvfs.js';
import type { DeviceNode, InitConfig, MountStep } from '../process/init-config.js';
import { ensureInRoot, openRoot, procFdPath, resolveInRoot } from './safe-path.js';

/** Make "/" follow the config's rootfsPropagation and bind the rootfs onto itself (pivot_root needs a mount point). */
export function prepareRoot(cfg: InitConfig): void {
  withContext('linux.rootfsPropagation', () => mount(null, '/', null, MS_REC | cfg.rootfsPropagation));
  withContext(`root.path ${cfg.rootfs}`, () => {
    makeParentMountPrivate(cfg.rootfs);
    mount(cfg.rootfs, cfg.rootfs, null, MS_BIND | MS_REC);
  });
}

/**
 * pivot_root(2) refuses a new root whose parent mount is shared. With a shared rootfsPropagation
 * the host's mounts keep their peer groups, so make the rootfs's parent mount private (runc's
 * rootfsParentMountPrivate).
 */
function makeParentMountPrivate(rootfs: string): void {
  const mountpoint = mountPointOf(rootfs);
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f[4] === mountpoint && line.includes(' shared:')) {
      mount(null, mountpoint, null, MS_PRIVATE);
      return;
    }
  }
}

/** The mount point holding `path` (longest mountinfo prefix). */
function mountPointOf(path: string): string {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  let best = '/';
  for (const line of info.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    if ((path === mp || path.startsWith(mp.endsWith('/') ? mp : `${mp}/`)) && mp.length > best.length) best = mp;
  }
  return best;
}

/** The config's mounts, in order, each target resolved inside the rootfs. */
export function mountAll(cfg: InitConfig, steps: MountStep[]): void {
  const rootFd = openRoot(cfg.rootfs);
  try {
    steps.forEach((m, i) => withContext(`mounts[${i}] ${m.source || m.type} on ${m.destination}`, () => mountOne(cfg, rootFd, m)));
  } finally {
    closeSync(rootFd);
  }
}

function mountOne(cfg: InitConfig, rootFd: number, m: MountStep): void {
  if (m.type === 'cgroup' || m.type === 'cgroup2') {
    mountCgroup(cfg, rootFd, m);
    return;
  }
  let isFile = false;
  if (m.bind) {
    let st;
    try {
      st = statSync(m.source);
    } catch {
      throw new RuntimeError(`bind source ${m.source} does not exist`);
    }
    isFile = !st.isDirectory();
  }
  const fd = ensureInRoot(rootFd, m.destination, isFile, `mount destination ${m.destination}`);
  try {
    const target = procFdPath(fd);
    mount(m.bind ? m.source : m.source || m.type, target, m.bind ? null : m.type, m.flags, m.bind ? null : m.data || null);
    if (m.bind && m.remountFlags) {
      // The flags of a bind mount can only be set by a remount, which replaces all of them:
      // carry over what the new mount already has (nosuid/nodev of the source, ...).
      const mounted = reopen(rootFd, m.destination);
      try {
        const keep = mountFlagsOf(procFdPath(mounted)) & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
        mount(null, procFdPath(mounted), null, MS_BIND | MS_REMOUNT | keep | m.remountFlags);
      } finally {
        closeSync(mounted);
      }
    }
    if (m.recursiveAttr.set || m.recursiveAttr.clear) {
      const mounted = reopen(rootFd, m.destination);
      try {
        mountSetattrRecursive(mounted, m.recursiveAttr.set, m.recursiveAttr.clear, m.destination);
      } finally {
        closeSync(mounted);
      }
    }
    if (m.propagation.length) {
      const mounted = reopen(rootFd, m.destination);
      try {
        for (const p of m.propagation) mount(null, procFdPath(mounted), null, p);
      } finally {
        closeSync(mounted);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** An fd of what is now mounted at `dest` (the fd from before the mount names the covered inode). */
function reopen(rootFd: number, dest: string): number {
  const fd = resolveInRoot(rootFd, dest);
  if (fd === null) throw new RuntimeError(`${dest} vanished after mounting`);
  return fd;
}

/**
 * A `cgroup` mount: on cgroup2 hosts the container's own cgroup directory; on v1 and hybrid
 * hosts runc 1.1's layout: a read-write tmpfs (mode 755) with one bind of the container's
 * directory per v1 hierarchy, named as on the host, each read-only when the config says so,
 * and no cgroup2 `unified` directory (runc mounts only the v1 hierarchies; a program inside
 * that looks for cgroup2 there would take the host for a v2 one).
 */
function mountCgroup(cfg: InitConfig, rootFd: number, m: MountStep): void {
  const readonly = (m.flags & MS_RDONLY) !== 0;
  const base = m.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  const fd = ensureInRoot(rootFd, m.destination, false, `mount destination ${m.destination}`);
  try {
    const unifiedOnly = Object.keys(cfg.cgroupPaths).length === 1 && cfg.cgroupPaths.unified !== undefined;
    if (unifiedOnly) {
      mount(cfg.cgroupPaths.unified!, procFdPath(fd), null, MS_BIND | MS_REC);
      const again = reopen(rootFd, m.destination);
      try {
        mount(null, procFdPath(again), null, MS_BIND | MS_REMOUNT | base | (readonly ? MS_RDONLY : 0));
      } finally {
        closeSync(again);
      }
      return;
    }
    mount('tmpfs', procFdPath(fd), 'tmpfs', base, 'mode=755');
  } finally {
    closeSync(fd);
  }
  // One directory per hierarchy, named as on the host (cpu,cpuacct → also the cpu and cpuacct links).
  const hostRoot = '/sys/fs/cgroup';
  for (const entry of readdirSync(hostRoot, { withFileTypes: true })) {
    const dest = `${m.destination}/${entry.name}`;
    if (entry.isSymbolicLink()) {
      const parent = ensureInRoot(rootFd, m.destination, false, dest);
      try {
        symlinkSync(readlinkSync(`${hostRoot}/${entry.name}`), `${procFdPath(parent)}/${entry.name}`);
      } finally {
        closeSync(parent);
      }
      continue;
    }
    const source = hierarchyPath(cfg, entry.name);
    if (!source || source === cfg.cgroupPaths.unified) continue;
    const fd2 = ensureInRoot(rootFd, dest, false, dest);
    try {
      mount(source, procFdPath(fd2), null, MS_BIND | MS_REC);
    } finally {
      closeSync(fd2);
    }
    const again = reopen(rootFd, dest);
    try {
      mount(null, procFdPath(again), null, MS_BIND | MS_REMOUNT | base | (readonly ? MS_RDONLY : 0));
    } finally {
      closeSync(again);
    }
  }
}

/** The container's directory in the hierarchy mounted at /sys/fs/cgroup/<dir> on the host. */
function hierarchyPath(cfg: InitConfig, dir: string): string | undefined {
  for (const [name, path] of Object.entries(cfg.cgroupPaths)) {
    if (path.startsWith(`/sys/fs/cgroup/${dir}/`) || path === `/sys/fs/cgroup/${dir}`) return path;
    if (name === dir) return path;
  }
  return undefined;
}

/** Device nodes (mknod, as root in the initial user namespace), owned and moded as configured. */
export function createDevices(cfg: InitConfig, devices: DeviceNode[]): void {
  const rootFd = openRoot(cfg.rootfs);
  try {
    for (const d of devices) {
      const parentPath = d.path.slice(0, d.path.lastIndexOf('/')) || '/';
      const name = d.path.slice(d.path.lastIndexOf('/') + 1);
      const parent = ensureInRoot(rootFd, parentPath, false, `device ${d.path}`);
      try {
        const target = `${procFdPath(parent)}/${name}`;
        try {
          unlinkSync(target);
        } catch {
          /* not there */
        }
        const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
        mknod(target, kind | (d.fileMode & 0o7777), d.major, d.minor);
        chownSync(target, d.uid, d.gid);
        chmodSync(target, d.fileMode & 0o7777);
      } catch (e) {
        throw wrap(e, `create device ${d.path}`);
      } finally {
        closeSync(parent);
      }
    }
  } finally {
    closeSync(rootFd);
  }
}

/** /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx → pts/ptmx, as runc makes them. */
export function createDevSymlinks(cfg: InitConfig): void {
  const links: [string, string][] = [
    ['/proc/self/fd', 'fd'],
    ['/proc/self/fd/0', 'stdin'],
    ['/proc/self/fd/1', 'stdout'],
    ['/proc/self/fd/2', 'stderr'],
  ];
  try {
    statSync('/proc/kcore');
    links.push(['/proc/kcore', 'core']);
  } catch {
    /* no kcore on this kernel */
  }
  links.push(['pts/ptmx', 'ptmx']);
  const rootFd = openRoot(cfg.rootfs);
  const dev = ensureInRoot(rootFd, '/dev', false, '/dev');
  try {
    for (const [target, name] of links) {
      const path = `${procFdPath(dev)}/${name}`;
      try {
        const st = lstatSync(path);
        if (name !== 'ptmx' && !st.isSymbolicLink()) continue;
        unlinkSync(path);
      } catch {
        /* absent */
      }
      symlinkSync(target, path);
    }
  } finally {
    closeSync(dev);
    closeSync(rootFd);
  }
}

/** pivot_root into the rootfs and detach the old root (or MS_MOVE + chroot with --no-pivot). */
export function enterRoot(cfg: InitConfig): void {
  withContext(`${cfg.noPivot ? 'chroot (--no-pivot)' : 'pivot_root'} into root.path ${cfg.rootfs}`, () => enter(cfg));
}

function enter(cfg: InitConfig): void {
  if (cfg.noPivot) {
    chdir(cfg.rootfs);
    mount(cfg.rootfs, '/', null, MS_MOVE);
    chroot('.');
    chdir('/');
    return;
  }
  chdir(cfg.rootfs);
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then
  // leaves only the rootfs, with no directory to hold the old root (runc's trick).
  pivotRoot('.', '.');
  // Make the old root a slave first so the detach does not propagate to the host.
  mount(null, '.', null, MS_SLAVE | MS_REC);
  umount2('.', MNT_DETACH);
  chdir('/');
}

/** maskedPaths: /dev/null over files, an empty read-only tmpfs over directories; missing paths are fine. */
export function maskPaths(paths: string[]): void {
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    try {
      if (st.isDirectory()) mount('tmpfs', p, 'tmpfs', MS_RDONLY, 'size=0,mode=755');
      else mount('/dev/null', p, null, MS_BIND);
    } catch (e) {
      throw wrap(e, `linux.maskedPaths ${p}`);
    }
  }
}

/** readonlyPaths: bind each onto itself, then remount read-only keeping its other flags. */
export function readonlyPaths(paths: string[]): void {
  for (const p of paths) {
    try {
      mount(p, p, null, MS_BIND | MS_REC);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'ENOENT') continue;
      throw wrap(e, `linux.readonlyPaths ${p}`);
    }
    withContext(`linux.readonlyPaths ${p}`, () => remountReadonly(p, MS_REC));
  }
}

export function remountReadonly(p: string, extra = 0): void {
  const keep = mountFlagsOf(p) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  try {
    mount(null, p, null, MS_BIND | MS_REMOUNT | MS_RDONLY | keep | extra);
  } catch (e) {
    throw wrap(e, `remount ${p} read-only`);
  }
}

/** root.readonly: the rootfs itself read-only (its submounts keep their own flags). */
export function readonlyRoot(): void {
  withContext('root.readonly', () => remountReadonly('/'));
}
