// Cross-field rules a JSON schema cannot say, checked after validateConfig and before
// anything touches the host. runc's libcontainer/configs/validate is the model. Every error
// names the field by its JSON pointer, as the schema errors do:
//   config.json: /hostname: needs a private uts namespace (add {"type": "uts"} to /linux/namespaces)
//
// Two kinds of failure:
//   ConfigError       the config contradicts itself or the spec (exit 1, nothing done);
//   UnsupportedError  valid, but this build or host cannot honour it. Never silently ignored:
//                     a container without the isolation its config asked for is worse than
//                     no container.
import { ConfigError, UnsupportedError } from '../errors.js';
import type { LinuxNamespaceType, Spec } from './generated/types.js';
import { type HostFacts, realHost } from './host.js';
import {
  CAPABILITIES,
  NAMESPACES,
  PROPAGATION_OPTIONS,
  RLIMITS,
  SECCOMP_SUPPORTED_ACTIONS,
  SECCOMP_SUPPORTED_ARCHS,
  SECCOMP_SUPPORTED_FLAGS,
} from './tables.js';

export interface CheckOptions {
  /** Document name in messages (default config.json). */
  label?: string;
  host?: HostFacts;
}

/** Throw the first rule the config breaks (ConfigError) or cannot be honoured (UnsupportedError). */
export function checkConfig(spec: Spec, opts: CheckOptions = {}): void {
  const label = opts.label ?? 'config.json';
  const host = opts.host ?? realHost;
  const fail = (path: string, msg: string) => new ConfigError(`${label}: ${path}: ${msg}`);
  const unsupported = (path: string, msg: string) => new UnsupportedError(`${label}: ${path}: ${msg}`);
  const linux = spec.linux ?? {};

  // Namespaces: no duplicates, only those we honour, joined paths that exist and are of
  // the right type.
  const namespaces = new Map<LinuxNamespaceType, { index: number; path?: string }>();
  (linux.namespaces ?? []).forEach((ns, i) => {
    const at = `/linux/namespaces/${i}`;
    if (namespaces.has(ns.type)) throw fail(`${at}/type`, `duplicate namespace ${JSON.stringify(ns.type)}`);
    namespaces.set(ns.type, { index: i, ...(ns.path ? { path: ns.path } : {}) });
    const info = NAMESPACES[ns.type];
    if (!info.supported) throw unsupported(`${at}/type`, `${ns.type} namespaces are not supported yet`);
    if (ns.path) {
      if (!host.exists(ns.path)) throw fail(`${at}/path`, `${ns.path} does not exist`);
      const actual = host.namespaceFileType(ns.path);
      if (actual !== undefined && actual !== info.procFile) {
        throw fail(`${at}/path`, `${ns.path} is a ${actual} namespace, not ${ns.type}`);
      }
    }
  });
  const has = (t: LinuxNamespaceType) => namespaces.has(t);
  const nsHint = (t: LinuxNamespaceType) => `needs a private ${t} namespace (add {"type": "${t}"} to /linux/namespaces)`;

  if (linux.uidMappings?.length && !has('user')) throw fail('/linux/uidMappings', nsHint('user'));
  if (linux.gidMappings?.length && !has('user')) throw fail('/linux/gidMappings', nsHint('user'));
  if (linux.timeOffsets && Object.keys(linux.timeOffsets).length && !has('time')) throw fail('/linux/timeOffsets', nsHint('time'));

  if (spec.hostname && !has('uts')) throw fail('/hostname', nsHint('uts'));
  if (spec.domainname && !has('uts')) throw fail('/domainname', nsHint('uts'));

  // Masking /proc entries in the host's own mount namespace would mask them for the host.
  if (linux.maskedPaths?.length && !has('mount')) throw fail('/linux/maskedPaths', nsHint('mount'));
  if (linux.readonlyPaths?.length && !has('mount')) throw fail('/linux/readonlyPaths', nsHint('mount'));

  checkSysctls(linux.sysctl ?? {}, namespaces, host, fail);

  if (linux.rootfsPropagation && !Object.hasOwn(PROPAGATION_OPTIONS, linux.rootfsPropagation)) {
    throw fail(
      '/linux/rootfsPropagation',
      `must be one of ${Object.keys(PROPAGATION_OPTIONS).join(', ')} (got ${JSON.stringify(linux.rootfsPropagation)})`,
    );
  }

  (linux.devices ?? []).forEach((d, i) => {
    if (d.type === 'p') return;
    if (d.major === undefined) throw fail(`/linux/devices/${i}/major`, `is required for a device of type "${d.type}"`);
    if (d.minor === undefined) throw fail(`/linux/devices/${i}/minor`, `is required for a device of type "${d.type}"`);
  });

  checkProcess(spec, host, fail, unsupported);
  checkSeccomp(spec, fail, unsupported);

  if (linux.mountLabel && !host.selinux) throw unsupported('/linux/mountLabel', 'SELinux is not enabled on this host');
  // Features nobody implements yet: refused rather than dropped.
  if (linux.intelRdt) throw unsupported('/linux/intelRdt', 'Intel RDT is not supported');
  if (linux.netDevices && Object.keys(linux.netDevices).length) {
    throw unsupported('/linux/netDevices', 'moving network devices into the container is not supported yet');
  }
}

type Fail = (path: string, msg: string) => Error;

/**
 * /proc/sys is only partly namespaced: a sysctl may be set only when the container has the
 * namespace that owns it, else it would change the host (runc's rules, same messages' spirit).
 */
function checkSysctls(
  sysctl: Record<string, string>,
  namespaces: Map<LinuxNamespaceType, { path?: string }>,
  host: HostFacts,
  fail: Fail,
): void {
  const ipcKeys = new Set([
    'kernel.msgmax',
    'kernel.msgmnb',
    'kernel.msgmni',
    'kernel.sem',
    'kernel.shmall',
    'kernel.shmmax',
    'kernel.shmmni',
    'kernel.shm_rmid_forced',
  ]);
  for (const raw of Object.keys(sysctl)) {
    const at = `/linux/sysctl/${raw.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const key = dotted(raw);
    if (ipcKeys.has(key) || key.startsWith('fs.mqueue.')) {
      if (!namespaces.has('ipc')) throw fail(at, `needs a private ipc namespace (add {"type": "ipc"} to /linux/namespaces)`);
      continue;
    }
    if (key.startsWith('net.')) {
      const net = namespaces.get('network');
      if (!net) throw fail(at, `needs a private network namespace (add {"type": "network"} to /linux/namespaces)`);
      if (net.path && host.isOwnNamespace(net.path, 'net')) throw fail(at, `is not allowed in the host's network namespace`);
      continue;
    }
    if (key === 'kernel.hostname') throw fail(at, 'conflicts with /hostname: set that instead');
    if (key === 'kernel.domainname') {
      if (!namespaces.has('uts')) throw fail(at, `needs a private uts namespace (add {"type": "uts"} to /linux/namespaces)`);
      continue;
    }
    throw fail(at, 'is not in a namespace the container can own, so setting it would change the host');
  }
}

/** sysctl(8) accepts "net/ipv4/ip_forward" too; with '/' first, '.' and '/' swap roles. */
function dotted(key: string): string {
  const first = key.search(/[./]/);
  if (first < 0 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

function checkProcess(spec: Spec, host: HostFacts, fail: Fail, unsupported: Fail): void {
  const p = spec.process;
  if (!p) return;
  const seen = new Map<string, number>();
  (p.rlimits ?? []).forEach((r, i) => {
    const at = `/process/rlimits/${i}`;
    if (!Object.hasOwn(RLIMITS, r.type)) throw fail(`${at}/type`, `unknown rlimit ${JSON.stringify(r.type)}`);
    if (seen.has(r.type)) throw fail(`${at}/type`, `duplicate rlimit ${r.type} (also /process/rlimits/${seen.get(r.type)})`);
    seen.set(r.type, i);
    if (r.soft > r.hard) throw fail(`${at}/soft`, `must not exceed hard (${r.soft} > ${r.hard})`);
  });
  const caps = p.capabilities ?? {};
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    (caps[set] ?? []).forEach((name, i) => {
      if (!Object.hasOwn(CAPABILITIES, name)) throw fail(`/process/capabilities/${set}/${i}`, `unknown capability ${JSON.stringify(name)}`);
    });
  }
  if (p.apparmorProfile && !host.apparmor) throw unsupported('/process/apparmorProfile', 'AppArmor is not enabled on this host');
  if (p.selinuxLabel && !host.selinux) throw unsupported('/process/selinuxLabel', 'SELinux is not enabled on this host');

  const s = p.scheduler;
  if (s) {
    // sched_setattr(2)'s own rules, so that the error names the field rather than EINVAL.
    if (s.priority && s.policy !== 'SCHED_FIFO' && s.policy !== 'SCHED_RR') {
      throw fail('/process/scheduler/priority', 'only applies to SCHED_FIFO and SCHED_RR');
    }
    if (s.policy !== 'SCHED_DEADLINE') {
      for (const k of ['runtime', 'deadline', 'period'] as const) {
        if (s[k]) throw fail(`/process/scheduler/${k}`, 'only applies to SCHED_DEADLINE');
      }
    }
    throw unsupported('/process/scheduler', 'process scheduling attributes are not supported yet');
  }
  if (p.ioPriority) throw unsupported('/process/ioPriority', 'I/O priorities are not supported yet');
  if (p.execCPUAffinity) throw unsupported('/process/execCPUAffinity', 'CPU affinity for exec is not supported yet');
}

function checkSeccomp(spec: Spec, fail: Fail, unsupported: Fail): void {
  const s = spec.linux?.seccomp;
  if (!s) return;
  const action = (a: string, at: string) => {
    if (!(SECCOMP_SUPPORTED_ACTIONS as readonly string[]).includes(a)) throw unsupported(at, `seccomp action ${a} is not supported`);
  };
  action(s.defaultAction, '/linux/seccomp/defaultAction');
  (s.architectures ?? []).forEach((a, i) => {
    if (!(SECCOMP_SUPPORTED_ARCHS as readonly string[]).includes(a)) {
      throw unsupported(`/linux/seccomp/architectures/${i}`, `seccomp architecture ${a} is not supported`);
    }
  });
  (s.flags ?? []).forEach((f, i) => {
    if (!(SECCOMP_SUPPORTED_FLAGS as readonly string[]).includes(f)) throw unsupported(`/linux/seccomp/flags/${i}`, `seccomp flag ${f} is not supported`);
  });
  if (s.listenerPath) throw unsupported('/linux/seccomp/listenerPath', 'seccomp notify listeners are not supported');
  (s.syscalls ?? []).forEach((sc, i) => {
    action(sc.action, `/linux/seccomp/syscalls/${i}/action`);
    // errnoRet means something only for the actions that return a value.
    if (sc.errnoRet !== undefined && sc.action !== 'SCMP_ACT_ERRNO' && sc.action !== 'SCMP_ACT_TRACE') {
      throw fail(`/linux/seccomp/syscalls/${i}/errnoRet`, `only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE (action is ${sc.action})`);
    }
  });
}
