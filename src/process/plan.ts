// Spec → InitConfig: the whole plan the init executes, computed by the runtime.
import type { CgroupManager } from '../cgroups/manager.js';
import { UnsupportedError, UsageError } from '../errors.js';
import { planDevices, planMounts, planRootPropagation, needsDevSetup } from '../rootfs/plan.js';
import { planSeccomp } from '../security/seccomp.js';
import type { Process, Spec } from '../spec/generated/types.js';
import { capabilityNumber, rlimitNumber } from '../spec/tables.js';
import type { Capabilities, InitConfig, NamespaceType, ProcessPlan, Rlimit } from './init-config.js';

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
  cgroups: CgroupManager;
}

/** The init's plan; `warnings` collects what will not be applied exactly as asked (logged by the caller). */
export function buildInitConfig(spec: Spec, ctx: PlanContext, warnings: string[] = []): InitConfig {
  const linux = spec.linux ?? {};
  const namespaces = (linux.namespaces ?? [])
    .filter((n) => n.type !== 'pid')
    .map((n) => ({ type: n.type as NamespaceType, ...(n.path ? { path: n.path } : {}) }));
  const mountNamespace = namespaces.some((n) => n.type === 'mount');
  if (!mountNamespace) {
    throw new UnsupportedError('config.json: /linux/namespaces: a mount namespace is required (the rootfs is set up in it)');
  }
  const mounts = planMounts(spec.mounts, ctx.bundle, linux.mountLabel);
  const process = planProcess(spec.process!, warnings);
  if (process.terminal && !ctx.consoleSocket) {
    throw new UsageError('process.terminal is true: a --console-socket is needed to receive the terminal');
  }
  if (!process.terminal && ctx.consoleSocket) {
    // runc's rule too: a console socket is only for a terminal the caller does not attach to.
    throw new UsageError(`--console-socket ${ctx.consoleSocket}: process.terminal is false, there is no terminal to send`);
  }
  return {
    id: ctx.id,
    rootfs: ctx.rootfs,
    namespaces,
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
    cgroupProcs: ctx.cgroups.procsFiles(),
    cgroupPaths: { ...ctx.cgroups.paths },
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
