// Which cgroup layout the host has, found at run time from /proc/self/mountinfo:
//   v2      cgroup2 is mounted at /sys/fs/cgroup (every controller lives there)
//   hybrid  v1 hierarchies under /sys/fs/cgroup/<ctrl>, plus cgroup2 (usually /sys/fs/cgroup/unified)
//   v1      v1 hierarchies only
// A Layout is plain data: tests build one by hand around a temp directory.
import { readFileSync } from 'node:fs';
import { RuntimeError } from '../errors.js';
import type { CgroupLayout } from './manager.js';

export interface V1Hierarchy {
  /** Mount point, e.g. /sys/fs/cgroup/cpu,cpuacct */
  mount: string;
  /** Controllers on this hierarchy ("cpu", "cpuacct", ...; named ones as "name=systemd"). */
  controllers: string[];
}

export interface Layout {
  kind: CgroupLayout;
  /** v1 hierarchies (v1 and hybrid). */
  v1: V1Hierarchy[];
  /** cgroup2 mount point: the only hierarchy on v2, the "unified" one on hybrid. */
  unified?: string | undefined;
}

/** The v1 controllers the kernel knows (mount options that are not controllers are ignored). */
export const V1_CONTROLLERS = new Set([
  'cpuset',
  'cpu',
  'cpuacct',
  'blkio',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
  'debug',
]);

/** Undo mountinfo's octal escapes (\040 for a space, ...). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Parse mountinfo text. Only mounts at or under `base` count (a container's own cgroup mount
 * elsewhere, or a bind of one, is not a host hierarchy); the first mount of a hierarchy wins.
 */
export function parseMountinfo(text: string, base = '/sys/fs/cgroup'): Layout {
  const v1: V1Hierarchy[] = [];
  const cgroup2: string[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const mountpoint = unescape(pre[4] ?? '');
    const fstype = post[0];
    if (mountpoint !== base && !mountpoint.startsWith(`${base}/`)) continue;
    if (fstype === 'cgroup2') {
      cgroup2.push(mountpoint);
    } else if (fstype === 'cgroup') {
      const opts = (post[2] ?? '').split(',');
      const controllers = opts.filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='));
      const key = controllers.join(',');
      if (!controllers.length || seen.has(key)) continue;
      seen.add(key);
      v1.push({ mount: mountpoint, controllers });
    }
  }
  if (cgroup2.includes(base)) return { kind: 'v2', v1: [], unified: base };
  if (v1.length) {
    const unified = cgroup2.find((m) => m === `${base}/unified`) ?? cgroup2[0];
    return unified ? { kind: 'hybrid', v1, unified } : { kind: 'v1', v1 };
  }
  if (cgroup2.length) return { kind: 'v2', v1: [], unified: cgroup2[0] };
  throw new RuntimeError(`cgroups: no cgroup filesystem is mounted under ${base}`);
}

let cached: Layout | undefined;

/** This host's layout (read once per process). */
export function detectLayout(): Layout {
  cached ??= parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  return cached;
}

/** Parse /proc/<pid>/cgroup: hierarchy key ("memory", "name=systemd", "" for cgroup2) → path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, hid, ctrls, path] = m;
    if (hid === '0' && ctrls === '') out.set('', path!);
    else for (const c of ctrls!.split(',')) if (c) out.set(c, path!);
  }
  return out;
}
