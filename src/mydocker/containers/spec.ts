// A container's record → the OCI config.json its bundle hands to the runtime. Pure (plan):
// everything host-dependent (the resolved user, volume paths, the seccomp profile) comes in
// through `SpecContext`, so the whole mapping is unit-tested without root.
//
// The mapping follows docker's (moby daemon/oci_linux.go): its default mounts, capability
// set, masked and read-only paths, seccomp profile and device rules, resources from
// HostConfig, the environment from the image plus -e with HOSTNAME and HOME added.
import { OCI_VERSION, RLIMITS } from '../../spec/tables.js';
import type { Hooks, LinuxDeviceCgroup, LinuxResources, Mount, Spec } from '../../spec/generated/types.js';
import { InputError } from '../errors.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS, effectiveCaps } from '../security/defaults.js';
import { defaultSeccomp, seccompFromFile } from '../security/seccomp-profile.js';
import type { ContainerRecord } from './record.js';
import type { ResolvedUser } from './users.js';

export interface ResolvedMount {
  source: string;
  destination: string;
  rw: boolean;
  propagation: string;
}

export interface HostDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface SpecContext {
  /** The mounted rootfs (overlay merged dir). */
  rootfs: string;
  user: ResolvedUser;
  hostname: string;
  /** Host paths of the generated /etc files. */
  files: { hosts: string; hostname: string; resolvConf: string };
  /** Binds and volumes, sources resolved on the host, in the order given. */
  mounts: ResolvedMount[];
  /** --device entries, stat'ed on the host. */
  devices: { device: HostDevice; containerPath: string; permissions: string }[];
  /** --init: the host's docker-init (tini's static build), bind-mounted at /sbin/docker-init. */
  initPath?: string;
  /** --pid container:X: that container's PID namespace. */
  pidnsPath?: string;
  /** A network namespace to join (networking), else a new one ('none') or the host's ('host'). */
  netnsPath?: string;
  hooks?: Hooks;
  annotations?: Record<string, string>;
}

const DEV_MOUNTS: Mount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
];

/** Where docker puts its init in the container, and the binary we use (Debian's tini package). */
export const INIT_DESTINATION = '/sbin/docker-init';
export const INIT_BINARY = '/usr/bin/tini-static';

/** Docker's process args: Entrypoint followed by Cmd. */
export function processArgs(rec: Pick<ContainerRecord, 'Config'>): string[] {
  return [...(rec.Config.Entrypoint ?? []), ...(rec.Config.Cmd ?? [])];
}

function hasSecurityOpt(rec: ContainerRecord, key: string): string | undefined {
  for (const o of rec.HostConfig.SecurityOpt) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(o);
    if (m && m[1] === key) return m[2] ?? 'true';
  }
  return undefined;
}

export function buildSpec(rec: ContainerRecord, ctx: SpecContext): Spec {
  const hc = rec.HostConfig;
  const caps = effectiveCaps(hc.Privileged, hc.CapAdd, hc.CapDrop);
  // --init: docker's docker-init as PID 1 (it forwards signals to the command and reaps orphans).
  const init = hc.Init && ctx.initPath ? ctx.initPath : undefined;
  const args = init ? [INIT_DESTINATION, '--', ...processArgs(rec)] : processArgs(rec);
  const env = [...rec.Config.Env];
  if (!env.some((e) => e.startsWith('HOSTNAME='))) env.splice(1, 0, `HOSTNAME=${ctx.hostname}`);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${ctx.user.home || '/'}`);

  const mounts: Mount[] = DEV_MOUNTS.map((m) => ({ ...m, options: [...(m.options ?? [])] }));
  if (hc.Privileged) {
    // docker: a privileged container's /sys and cgroup view are writable.
    for (const m of mounts) if (m.destination === '/sys' || m.destination === '/sys/fs/cgroup') m.options = m.options!.filter((o) => o !== 'ro');
  }
  // /dev/shm: the container's own, the host's with --ipc host, none with --ipc none (docker).
  if (hc.IpcMode === 'host') mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  else if (hc.IpcMode !== 'none') {
    mounts.push({
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${hc.ShmSize}`],
    });
  }
  for (const [dest, opts] of Object.entries(hc.Tmpfs)) {
    mounts.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(opts ? opts.split(',') : [])] });
  }
  // The generated /etc files: writable, like docker's (a user may edit /etc/hosts).
  for (const [dest, source] of [
    ['/etc/resolv.conf', ctx.files.resolvConf],
    ['/etc/hostname', ctx.files.hostname],
    ['/etc/hosts', ctx.files.hosts],
  ] as const) {
    mounts.push({ destination: dest, type: 'bind', source, options: ['rbind', 'rprivate'] });
  }
  if (init) mounts.push({ destination: INIT_DESTINATION, type: 'bind', source: init, options: ['rbind', 'rprivate', 'ro'] });
  for (const m of ctx.mounts) {
    mounts.push({
      destination: m.destination,
      type: 'bind',
      source: m.source,
      options: ['rbind', m.propagation || 'rprivate', ...(m.rw ? [] : ['ro'])],
    });
  }

  // docker's order: by depth of the destination (stable), so a volume at /etc comes before the
  // /etc/hosts bind on top of it, whatever the order of the flags.
  const depth = (d: string) => d.split('/').filter(Boolean).length;
  mounts.sort((a, b) => depth(a.destination) - depth(b.destination));

  const network = hc.NetworkMode;
  // --pid/--ipc/--uts host: that namespace is the host's (no entry: the runtime's own).
  const namespaces: NonNullable<Spec['linux']>['namespaces'] = [];
  if (ctx.pidnsPath) namespaces.push({ type: 'pid', path: ctx.pidnsPath });
  else if (hc.PidMode !== 'host') namespaces.push({ type: 'pid' });
  if (hc.IpcMode !== 'host') namespaces.push({ type: 'ipc' });
  const ownUts = hc.UTSMode !== 'host';
  if (ownUts) namespaces.push({ type: 'uts' });
  namespaces.push({ type: 'mount' }, { type: 'cgroup' });
  if (network !== 'host') namespaces.push(ctx.netnsPath ? { type: 'network', path: ctx.netnsPath } : { type: 'network' });

  let seccomp: NonNullable<Spec['linux']>['seccomp'];
  const seccompOpt = hasSecurityOpt(rec, 'seccomp');
  if (hc.Privileged || seccompOpt === 'unconfined') seccomp = undefined;
  else if (seccompOpt) seccomp = seccompFromFile(seccompOpt, caps);
  else seccomp = defaultSeccomp(caps);
  const nnp = hasSecurityOpt(rec, 'no-new-privileges');

  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: rec.Config.Tty,
      user: {
        uid: ctx.user.uid,
        gid: ctx.user.gid,
        ...(ctx.user.additionalGids.length ? { additionalGids: ctx.user.additionalGids } : {}),
      },
      args,
      env,
      cwd: rec.Config.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: nnp !== undefined && nnp !== 'false',
      ...(hc.OomScoreAdj ? { oomScoreAdj: hc.OomScoreAdj } : {}),
      ...(hc.Ulimits.length
        ? {
            rlimits: hc.Ulimits.map((u) => {
              const type = `RLIMIT_${u.Name.toUpperCase()}`;
              if (!Object.hasOwn(RLIMITS, type)) throw new InputError(`--ulimit ${u.Name}: unknown limit`);
              return { type, soft: u.Soft, hard: u.Hard };
            }),
          }
        : {}),
    },
    root: { path: ctx.rootfs, readonly: hc.ReadonlyRootfs },
    ...(ownUts ? { hostname: ctx.hostname } : {}),
    mounts,
    ...(ctx.hooks ? { hooks: ctx.hooks } : {}),
    annotations: { 'org.mydocker.container.id': rec.Id, 'org.mydocker.container.name': rec.Name, ...(ctx.annotations ?? {}) },
    linux: {
      resources: resources(rec, ctx),
      namespaces,
      ...(hc.Sysctls && Object.keys(hc.Sysctls).length ? { sysctl: { ...hc.Sysctls } } : {}),
      devices: ctx.devices.map((d) => ({
        path: d.containerPath,
        type: d.device.type,
        major: d.device.major,
        minor: d.device.minor,
        fileMode: d.device.fileMode,
        uid: d.device.uid,
        gid: d.device.gid,
      })),
      ...(hc.Privileged ? {} : { maskedPaths: [...DOCKER_MASKED_PATHS], readonlyPaths: [...DOCKER_READONLY_PATHS] }),
      ...(seccomp ? { seccomp } : {}),
    },
  };
  return spec;
}

function resources(rec: ContainerRecord, ctx: SpecContext): LinuxResources {
  const hc = rec.HostConfig;
  const devices: LinuxDeviceCgroup[] = hc.Privileged
    ? [{ allow: true, access: 'rwm' }]
    : [
        { allow: false, access: 'rwm' },
        ...ctx.devices.map((d) => ({ allow: true, type: d.device.type, major: d.device.major, minor: d.device.minor, access: d.permissions })),
      ];
  const r: LinuxResources = { devices };
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (hc.Memory) memory.limit = hc.Memory;
  if (hc.Memory && hc.MemorySwap) memory.swap = hc.MemorySwap;
  if (hc.MemoryReservation) memory.reservation = hc.MemoryReservation;
  if (hc.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) r.memory = memory;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (hc.NanoCpus) {
    cpu.period = 100000;
    cpu.quota = Math.round((hc.NanoCpus * 100000) / 1e9);
  }
  if (hc.CpuPeriod) cpu.period = hc.CpuPeriod;
  if (hc.CpuQuota) cpu.quota = hc.CpuQuota;
  if (hc.CpuShares) cpu.shares = hc.CpuShares;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (hc.PidsLimit !== null && hc.PidsLimit !== 0) r.pids = { limit: hc.PidsLimit };
  return r;
}
