// What is mounted where, from /proc/self/mountinfo, and unmounting what lies under a directory.
//
// mydocker mounts in the host's mount namespace (a container's overlay rootfs), so removing a
// container must first take down every mount under its directory — and must never delete
// through one: a host directory bind-mounted there by mistake or by a crash is user data.
import { readFileSync } from 'node:fs';
import { KernelError } from '../../kernel/ffi.js';
import { MNT_DETACH, umount2 } from '../../kernel/mount.js';
import { MydockerError } from '../errors.js';

export interface MountEntry {
  mountpoint: string;
  fstype: string;
  source: string;
  options: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040 …). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    out.push({
      mountpoint: unescapeOctal(pre[4] ?? ''),
      fstype: post[0] ?? '',
      source: unescapeOctal(post[1] ?? ''),
      options: post[2] ?? '',
    });
  }
  return out;
}

export function mounts(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

const under = (dir: string, p: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string, table: MountEntry[] = mounts()): string[] {
  return [...new Set(table.filter((m) => under(dir, m.mountpoint)).map((m) => m.mountpoint))].sort((a, b) => b.length - a.length);
}

export function isMountpoint(path: string, table: MountEntry[] = mounts()): boolean {
  return table.some((m) => m.mountpoint === path);
}

/**
 * Unmount everything at or below `dir`. A busy mount is detached (lazily unmounted: gone from
 * the tree at once, freed when its last user goes), which is what a removal needs.
 */
export function unmountUnder(dir: string): void {
  // A mount may be stacked several times on one point: repeat until none is left.
  for (let round = 0; round < 8; round++) {
    const points = mountsUnder(dir);
    if (!points.length) return;
    for (const p of points) {
      try {
        umount2(p, 0);
      } catch (e) {
        if (e instanceof KernelError && e.code === 'EINVAL') continue; // not a mount any more
        if (e instanceof KernelError && e.code === 'EBUSY') {
          umount2(p, MNT_DETACH);
          continue;
        }
        throw e;
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length) throw new MydockerError(`unmount ${left[0]}: still mounted after repeated unmounts`);
}
