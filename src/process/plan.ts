// Spec → InitConfig: the whole plan the init executes, computed by the runtime.
import type { CgroupManager } from '../cgroups/manager.js';
import { UnsupportedError, UsageError } from '../errors.js';
import { planDevices, planMounts, planRootPropagation, needsDevSetup } from '../rootfs/plan.js';
import { planSeccomp } from '../security/seccomp.js';
import type { Process, Spec } from '../spec/generated/types.js';
import { capabilityNumber, rlimitNumber } from '../spec/tables.js';
import type { Capabilities, InitConfig, MountStep, NamespaceType, ProcessPlan, Rlimit, UserNamespacePlan } from './init-config.js';

export interface CreateOptions {
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  systemdCgroup?: boolean;
}

export interface PlanContext extends CreateOptions {
  id: string;
  bundle: string;
  rootfs: string;
  fifoPath: string;
  /** The container's cgroup; none for a rootless container without a delegated one. */
  cgroups?: CgroupManager;
  /** The runtime is not root (rootless): id maps are limited to its own ids. */
  unprivileged?: boolean;
}

/** The init's plan; `warnings` collects what will not be applied exactly as asked (logged by the caller). */
export function buildInitConfig(spec: Spec, ctx: PlanContext, warnings: string[] = []): InitConfig {
  const linux = spec.linux ?? {};
  const namespaces = (linux.namespaces ?? []).map((n) => ({ type: n.type as NamespaceType, ...(n.path ? { path: n.path } : {}) }));
  const has = (t: NamespaceType) => namespaces.some((n) => n.type === t);
  const created = (t: NamespaceType) => namespaces.some((n) => n.type === t && !n.path);
  const mountNamespace = has('mount');
  const mounts = planMounts(spec.mounts, ctx.bundle, linux.mountLabel, linux);
  if (has('user')) checkUserNamespaceMounts(mounts, has);
  if (ctx.unprivileged) {
    const i = mounts.findIndex((m) => m.idmap);
    if (i >= 0) throw new UnsupportedError(`config.json: /mounts/${i}: an id-mapped mount needs a privileged runtime (a user namespace with those maps)`);
  }
  const process = planProcess(spec.process!, warnings);
  if (process.terminal && !ctx.consoleSocket) {
    throw new UsageError('process.terminal is true: a --console-socket is needed to receive the terminal');
  }
  if (!process.terminal && ctx.consoleSocket) {
    // runc's rule too: a console socket is only for a terminal the caller does not attach to.
    throw new UsageError(`--console-socket ${ctx.consoleSocket}: process.terminal is false, there is no terminal to send`);
  }
  const userNamespace = created('user') ? planUserNamespace(linux.uidMappings ?? [], linux.gidMappings ?? [], ctx.unprivileged ?? false) : undefined;
  if (userNamespace?.setgroupsDeny && process.additionalGids.length) {
    throw new UsageError('config.json: /process/user/additionalGids: an unprivileged runtime must deny setgroups in the user namespace (to map its gid), so no supplementary groups can be set');
  }
  return {
    id: ctx.id,
    rootfs: ctx.rootfs,
    namespaces,
    ...(userNamespace ? { userNamespace } : {}),
    ...(created('time') && linux.timeOffsets ? { timeOffsets: planTimeOffsets(linux.timeOffsets) } : {}),
    ...(ctx.unprivileged ? { unprivileged: true } : {}),
    mountNamespace,
    rootfsPropagation: planRootPropagation(linux.rootfsPropagation),
    rootReadonly: spec.root?.readonly ?? false,
    noPivot: ctx.noPivot ?? false,
    mounts,
    devices: planDevices(mounts, linux.devices),
    devSymlinks: needsDevSetup(mounts),
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    ...(spec.hostname !== undefined ? { hostname: spec.hostname } : {}),
    ...(spec.domainname !== undefined ? { domainname: spec.domainname } : {}),
    sysctl: linux.sysctl ?? {},
    cgroupProcs: ctx.cgroups?.procsFiles() ?? [],
    cgroupPaths: { ...(ctx.cgroups?.paths ?? {}) },
    process,
    ...(linux.seccomp ? { seccomp: planSeccomp(linux.seccomp, process.noNewPrivileges) } : {}),
    hooks: {
      createContainer: spec.hooks?.createContainer ?? [],
      startContainer: spec.hooks?.startContainer ?? [],
    },
    hookState: {
      ociVersion: spec.ociVersion,
      id: ctx.id,
      status: 'creating',
      bundle: ctx.bundle,
      annotations: spec.annotations ?? {},
    },
    fifoPath: ctx.fifoPath,
    preserveFds: ctx.preserveFds ?? 0,
    ...(ctx.consoleSocket ? { consoleSocket: ctx.consoleSocket } : {}),
  };
}

type IdMapping = { containerID: number; hostID: number; size: number };

/** /proc/<pid>/uid_map text for mappings. */
export function idMapText(maps: IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/**
 * The maps of a new user namespace. An unprivileged runtime may only map its own ids, one line
 * each, and must deny setgroups first (user_namespaces(7)); a privileged one writes what the
 * config says.
 */
export function planUserNamespace(uids: IdMapping[], gids: IdMapping[], unprivileged: boolean): UserNamespacePlan {
  if (!uids.length) throw new UsageError('config.json: /linux/uidMappings: a new user namespace needs uid mappings');
  if (!gids.length) throw new UsageError('config.json: /linux/gidMappings: a new user namespace needs gid mappings');
  if (unprivileged) {
    const uid = globalThis.process.geteuid?.() ?? 0;
    const gid = globalThis.process.getegid?.() ?? 0;
    for (const [field, maps, own] of [['uidMappings', uids, uid], ['gidMappings', gids, gid]] as const) {
      if (maps.length !== 1 || maps[0]!.size !== 1 || maps[0]!.hostID !== own) {
        throw new UsageError(`config.json: /linux/${field}: an unprivileged runtime can map only its own id (one mapping of size 1 to host id ${own}; got ${JSON.stringify(maps)})`);
      }
    }
  }
  const covers = (maps: IdMapping[], id: number) => maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
  return { uidMap: idMapText(uids), gidMap: idMapText(gids), setgroupsDeny: unprivileged, rootMapped: covers(uids, 0) && covers(gids, 0) };
}

/** linux.timeOffsets → /proc/self/timens_offsets ("monotonic <secs> <nanosecs>" lines). */
function planTimeOffsets(offsets: NonNullable<NonNullable<Spec['linux']>['timeOffsets']>): string {
  return Object.entries(offsets)
    .map(([clock, o]) => `${clock} ${o?.secs ?? 0} ${o?.nanosecs ?? 0}\n`)
    .join('');
}

/**
 * Mounts a user namespace cannot make are refused by name before anything runs: the kernel
 * lets a namespace's root mount proc only for a PID namespace, sysfs for a network namespace
 * and mqueue for an IPC namespace of its own (a host-shared one stays the host's).
 */
function checkUserNamespaceMounts(mounts: MountStep[], has: (t: NamespaceType) => boolean): void {
  const needs: Record<string, [NamespaceType, string]> = {
    proc: ['pid', 'proc'],
    sysfs: ['network', 'sysfs (bind the host\'s /sys instead, as `spec --rootless` does)'],
    mqueue: ['ipc', 'mqueue'],
  };
  mounts.forEach((m, i) => {
    const need = needs[m.type];
    if (need && !has(need[0])) {
      throw new UnsupportedError(`config.json: /mounts/${i}: a user namespace cannot mount ${need[1]} without a ${need[0]} namespace of its own`);
    }
  });
}

export function planProcess(p: Process, warnings: string[], field = 'process'): ProcessPlan {
  const user = p.user ?? { uid: 0, gid: 0 };
  return {
    args: p.args ?? [],
    env: p.env ?? [],
    cwd: p.cwd || '/',
    uid: user.uid ?? 0,
    gid: user.gid ?? 0,
    additionalGids: user.additionalGids ?? [],
    umask: user.umask ?? 0o022,
    rlimits: (p.rlimits ?? []).map(
      (r, i): Rlimit => ({
        name: r.type,
        resource: rlimitNumber(r.type, `${field}.rlimits[${i}].type`),
        soft: r.soft,
        hard: r.hard,
      }),
    ),
    capabilities: p.capabilities ? planCapabilities(p.capabilities, field, warnings) : null,
    noNewPrivileges: p.noNewPrivileges ?? false,
    ...(p.oomScoreAdj !== undefined ? { oomScoreAdj: p.oomScoreAdj } : {}),
    terminal: p.terminal ?? false,
    ...(p.consoleSize ? { consoleSize: p.consoleSize } : {}),
    ...(p.apparmorProfile ? { apparmorProfile: p.apparmorProfile } : {}),
    ...(p.selinuxLabel ? { selinuxLabel: p.selinuxLabel } : {}),
  };
}

function planCapabilities(c: NonNullable<Process['capabilities']>, field: string, warnings: string[]): Capabilities {
  const nums = (set: keyof typeof c) =>
    (c[set] ?? []).map((name, i) => capabilityNumber(name, `${field}.capabilities.${set}[${i}]`));
  const caps = {
    bounding: nums('bounding'),
    effective: nums('effective'),
    permitted: nums('permitted'),
    inheritable: nums('inheritable'),
    ambient: nums('ambient'),
  };
  // The kernel raises an ambient capability only if it is both permitted and inheritable.
  // runc warns and goes on (runc spec's own default has ambient without inheritable), and so
  // do we — but here, at create time, where the warning reaches the user's log.
  const dropped: string[] = [];
  const ambient = caps.ambient.filter((cap, i) => {
    if (caps.permitted.includes(cap) && caps.inheritable.includes(cap)) return true;
    dropped.push(c.ambient![i]!);
    return false;
  });
  if (dropped.length) {
    warnings.push(`${field}.capabilities.ambient: ${dropped.join(', ')} not raised: an ambient capability must also be permitted and inheritable`);
  }
  return { ...caps, ambient };
}
