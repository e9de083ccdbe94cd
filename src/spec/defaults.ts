// `spec`: the starting config.json a user edits, as `runc spec` writes it: a shell on a
// terminal, the small default capability set, the usual kernel filesystems, and /proc and
// /sys entries that leak host information masked or made read-only.
import type { Mount, Spec } from './generated/types.js';
import { DEFAULT_CAPABILITIES, OCI_VERSION } from './tables.js';

export interface DefaultSpecOptions {
  /**
   * A config for an unprivileged user (`spec --rootless`): a user namespace mapping the
   * caller to root, no network namespace (it could not be set up), the host's /sys bound
   * instead of a new sysfs, and no cgroup limits. Checked like any other config: this build
   * refuses user namespaces for now, so it documents the shape more than it runs.
   */
  rootless?: boolean;
  /** The caller's uid and gid for the rootless mappings (default: this process's). */
  uid?: number;
  gid?: number;
}

/**
 * /proc and /sys entries that leak host information or control the host: masked (a /dev/null
 * or an empty read-only tmpfs over them) and made read-only. runc's `spec` and docker's
 * defaults use the same lists (mydocker takes them from here too).
 */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
  '/proc/scsi',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const caps = () => [...DEFAULT_CAPABILITIES];
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      // No inheritable or ambient sets: with them a file capability could regain what was
      // dropped (CVE-2022-29162).
      capabilities: { bounding: caps(), effective: caps(), permitted: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'mydocker',
    mounts: defaultMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  return opts.rootless ? toRootless(spec, opts.uid ?? process.getuid?.() ?? 0, opts.gid ?? process.getgid?.() ?? 0) : spec;
}

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

/** runc's ToRootless, on our default spec. */
function toRootless(spec: Spec, uid: number, gid: number): Spec {
  const linux = spec.linux!;
  linux.namespaces = [...(linux.namespaces ?? []).filter((n) => n.type !== 'network' && n.type !== 'user'), { type: 'user' }];
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  delete linux.resources;
  spec.mounts = (spec.mounts ?? []).map((m) => {
    // An unprivileged user may not mount a new sysfs (it belongs to the host's network
    // namespace); bind the host's instead.
    if (m.destination === '/sys') {
      return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    }
    // gid=5 (tty) is not mapped in a single-id user namespace.
    return m.options ? { ...m, options: m.options.filter((o) => !o.startsWith('gid=')) } : m;
  });
  return spec;
}
