// The one place that maps the spec's names to the kernel's numbers, shared by validation
// (check.ts), the features document (features.ts), `spec` defaults, and the code that turns
// a config into syscalls (rootfs, capabilities, rlimits, kill, seccomp).
//
// Pure data and tiny lookups: no imports beyond errors.ts, because everything on the start
// path imports this. Values are for x86_64 and aarch64; where the two differ it says so.
import { ConfigError, UsageError } from '../errors.js';
import {
  CLONE_NEWTIME,
  CLONE_NEWNS,
  CLONE_NEWCGROUP,
  CLONE_NEWUTS,
  CLONE_NEWIPC,
  CLONE_NEWUSER,
  CLONE_NEWPID,
  CLONE_NEWNET,
  MS_RDONLY,
  MS_NOSUID,
  MS_NODEV,
  MS_NOEXEC,
  MS_SYNCHRONOUS,
  MS_REMOUNT,
  MS_MANDLOCK,
  MS_DIRSYNC,
  MS_NOSYMFOLLOW,
  MS_NOATIME,
  MS_NODIRATIME,
  MS_BIND,
  MS_MOVE,
  MS_REC,
  MS_SILENT,
  MS_POSIXACL,
  MS_UNBINDABLE,
  MS_PRIVATE,
  MS_SLAVE,
  MS_SHARED,
  MS_RELATIME,
  MS_I_VERSION,
  MS_STRICTATIME,
  MS_LAZYTIME,
  MS_PROPAGATION,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_STRICTATIME,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_IDMAP,
  MOUNT_ATTR_NOSYMFOLLOW,
} from '../kernel/constants.js';
import type { LinuxNamespaceType, SeccompAction, SeccompArch, SeccompFlag, SeccompOperator } from './generated/types.js';

/** The runtime-spec version this build implements and writes (`spec`, `state`, hooks' state). */
export const OCI_VERSION = '1.2.0';
/** The oldest ociVersion we accept (features' ociVersionMin). */
export const OCI_VERSION_MIN = '1.0.0';

// --- Namespaces ------------------------------------------------------------------------------

// The flag and mount constants live in kernel/constants.ts (no FFI behind them); re-exported
// here for the code that reads the spec's tables.
export * from '../kernel/constants.js';


export interface NamespaceInfo {
  /** CLONE_NEW* flag for unshare(2)/setns(2). */
  flag: number;
  /** Name under /proc/<pid>/ns/ (what a process is in). */
  procFile: string;
  /**
   * Name under /proc/<pid>/ns/ of the namespace the process's *children* get. pid and time
   * namespaces only apply to children: setns/unshare never move the caller itself.
   */
  childFile: string;
  /**
   * Whether this build honours the namespace (a config asking for an unsupported one is
   * refused by check.ts, and `features` leaves it out). All of them, since the init is a
   * native single-threaded process that can unshare a user namespace and fork into new PID
   * and time namespaces.
   */
  supported: boolean;
}

/** Every namespace type of the spec, in the order `features` lists them. */
export const NAMESPACES: Readonly<Record<LinuxNamespaceType, NamespaceInfo>> = {
  pid: { flag: CLONE_NEWPID, procFile: 'pid', childFile: 'pid_for_children', supported: true },
  network: { flag: CLONE_NEWNET, procFile: 'net', childFile: 'net', supported: true },
  mount: { flag: CLONE_NEWNS, procFile: 'mnt', childFile: 'mnt', supported: true },
  ipc: { flag: CLONE_NEWIPC, procFile: 'ipc', childFile: 'ipc', supported: true },
  uts: { flag: CLONE_NEWUTS, procFile: 'uts', childFile: 'uts', supported: true },
  user: { flag: CLONE_NEWUSER, procFile: 'user', childFile: 'user', supported: true },
  cgroup: { flag: CLONE_NEWCGROUP, procFile: 'cgroup', childFile: 'cgroup', supported: true },
  time: { flag: CLONE_NEWTIME, procFile: 'time', childFile: 'time_for_children', supported: true },
};

export const NAMESPACE_TYPES = Object.keys(NAMESPACES) as LinuxNamespaceType[];

/**
 * The nstype ioctl(NS_GET_NSTYPE) reports for a namespace file is its CLONE_NEW* flag; this
 * maps it back (for checking that a namespace `path` is of the right type).
 */
export function namespaceTypeOfFlag(flag: number): LinuxNamespaceType | undefined {
  return NAMESPACE_TYPES.find((t) => NAMESPACES[t].flag === flag);
}

// --- Mounts ---------------------------------------------------------------------------------


export interface MountFlagOption {
  flag: number;
  /** true: the option clears `flag` (rw clears MS_RDONLY); false: it sets it. */
  clear: boolean;
}

/**
 * fstab-style options that are mount(2) flags. Any other option (except the propagation and
 * recursive ones below) is filesystem data, passed on as the `data` string.
 */
export const MOUNT_OPTIONS: Readonly<Record<string, MountFlagOption>> = {
  async: { flag: MS_SYNCHRONOUS, clear: true },
  atime: { flag: MS_NOATIME, clear: true },
  bind: { flag: MS_BIND, clear: false },
  defaults: { flag: 0, clear: false },
  dev: { flag: MS_NODEV, clear: true },
  diratime: { flag: MS_NODIRATIME, clear: true },
  dirsync: { flag: MS_DIRSYNC, clear: false },
  exec: { flag: MS_NOEXEC, clear: true },
  iversion: { flag: MS_I_VERSION, clear: false },
  lazytime: { flag: MS_LAZYTIME, clear: false },
  loud: { flag: MS_SILENT, clear: true },
  mand: { flag: MS_MANDLOCK, clear: false },
  noatime: { flag: MS_NOATIME, clear: false },
  nodev: { flag: MS_NODEV, clear: false },
  nodiratime: { flag: MS_NODIRATIME, clear: false },
  noexec: { flag: MS_NOEXEC, clear: false },
  noiversion: { flag: MS_I_VERSION, clear: true },
  nolazytime: { flag: MS_LAZYTIME, clear: true },
  nomand: { flag: MS_MANDLOCK, clear: true },
  norelatime: { flag: MS_RELATIME, clear: true },
  nostrictatime: { flag: MS_STRICTATIME, clear: true },
  nosuid: { flag: MS_NOSUID, clear: false },
  nosymfollow: { flag: MS_NOSYMFOLLOW, clear: false },
  rbind: { flag: MS_BIND | MS_REC, clear: false },
  relatime: { flag: MS_RELATIME, clear: false },
  remount: { flag: MS_REMOUNT, clear: false },
  ro: { flag: MS_RDONLY, clear: false },
  rw: { flag: MS_RDONLY, clear: true },
  silent: { flag: MS_SILENT, clear: false },
  strictatime: { flag: MS_STRICTATIME, clear: false },
  suid: { flag: MS_NOSUID, clear: true },
  symfollow: { flag: MS_NOSYMFOLLOW, clear: true },
  sync: { flag: MS_SYNCHRONOUS, clear: false },
};

/** Propagation options: each is its own mount(2) call after the mount itself. */
export const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

/**
 * linux.rootfsPropagation takes the same names. Absent (or "") leaves the choice to the
 * runtime; runc uses rslave (MS_SLAVE|MS_REC) so that host unmounts still reach the container.
 */
export const ROOTFS_PROPAGATION = PROPAGATION_OPTIONS;

// mount_setattr(2) attributes, for the recursive options below (Linux 5.12+).
/** The atime attributes are one 3-bit field: setting one means clearing this mask first. */
export const AT_RECURSIVE = 0x8000;

export interface RecursiveMountOption {
  /** MOUNT_ATTR_* to set (clear: false) or clear (clear: true), with AT_RECURSIVE. */
  attr: number;
  clear: boolean;
}

/**
 * Recursive variants (`rro`, `rnosuid`, ...): applied to the mount and every submount with
 * mount_setattr(AT_RECURSIVE), since mount(2) flags only ever touch one mount. An atime
 * attribute (MOUNT_ATTR__ATIME bits) that is set must also clear MOUNT_ATTR__ATIME.
 */
export const RECURSIVE_MOUNT_OPTIONS: Readonly<Record<string, RecursiveMountOption>> = {
  rro: { attr: MOUNT_ATTR_RDONLY, clear: false },
  rrw: { attr: MOUNT_ATTR_RDONLY, clear: true },
  rnosuid: { attr: MOUNT_ATTR_NOSUID, clear: false },
  rsuid: { attr: MOUNT_ATTR_NOSUID, clear: true },
  rnodev: { attr: MOUNT_ATTR_NODEV, clear: false },
  rdev: { attr: MOUNT_ATTR_NODEV, clear: true },
  rnoexec: { attr: MOUNT_ATTR_NOEXEC, clear: false },
  rexec: { attr: MOUNT_ATTR_NOEXEC, clear: true },
  rnodiratime: { attr: MOUNT_ATTR_NODIRATIME, clear: false },
  rdiratime: { attr: MOUNT_ATTR_NODIRATIME, clear: true },
  rrelatime: { attr: MOUNT_ATTR_RELATIME, clear: false },
  rnorelatime: { attr: MOUNT_ATTR_RELATIME, clear: true },
  rnoatime: { attr: MOUNT_ATTR_NOATIME, clear: false },
  ratime: { attr: MOUNT_ATTR_NOATIME, clear: true },
  rstrictatime: { attr: MOUNT_ATTR_STRICTATIME, clear: false },
  rnostrictatime: { attr: MOUNT_ATTR_STRICTATIME, clear: true },
  rnosymfollow: { attr: MOUNT_ATTR_NOSYMFOLLOW, clear: false },
  rsymfollow: { attr: MOUNT_ATTR_NOSYMFOLLOW, clear: true },
};

/**
 * Whether the rootfs code applies the recursive options yet (it refuses them until then).
 * Flip this together with that code: `features` lists them only when true.
 */
export const RECURSIVE_MOUNT_OPTIONS_SUPPORTED = true;

/** Every option name the runtime recognises in `mounts[].options` (features' mountOptions). */
export const MOUNT_OPTION_NAMES: readonly string[] = [
  ...Object.keys(MOUNT_OPTIONS),
  ...Object.keys(PROPAGATION_OPTIONS),
  ...(RECURSIVE_MOUNT_OPTIONS_SUPPORTED ? Object.keys(RECURSIVE_MOUNT_OPTIONS) : []),
  'idmap',
  'ridmap',
].sort();

// --- Capabilities -----------------------------------------------------------------------------

/** Capability numbers (linux/capability.h); the same on every architecture. */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

export const CAPABILITY_NAMES: readonly string[] = Object.keys(CAPABILITIES);

/**
 * Capability number for a name. An unknown name is a ConfigError naming `field` (runc only
 * warns and drops it; we refuse, since a dropped capability changes what the process may do).
 */
export function capabilityNumber(name: string, field = 'capability'): number {
  const n = Object.hasOwn(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
  if (n === undefined) throw new ConfigError(`${field}: unknown capability ${JSON.stringify(name)}`);
  return n;
}

/** The set `runc spec` (and Docker) give a container by default. */
export const DEFAULT_CAPABILITIES: readonly string[] = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

// --- Rlimits ----------------------------------------------------------------------------------

/** RLIMIT_* resource numbers (asm-generic; x86_64 and aarch64 agree). */
export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** RLIMIT_* number for a name; an unknown name is a ConfigError naming `field`. */
export function rlimitNumber(name: string, field = 'rlimit'): number {
  const n = Object.hasOwn(RLIMITS, name) ? RLIMITS[name] : undefined;
  if (n === undefined) throw new ConfigError(`${field}: unknown rlimit ${JSON.stringify(name)}`);
  return n;
}

/**
 * RLIM_INFINITY is 2^64-1, which JSON.parse rounds to 2^64: treat any value at or above
 * 2^64-2^11 (the nearest double below) as "unlimited" when turning it into a syscall argument.
 */
export const RLIM_INFINITY = 18446744073709551615n;
export function isRlimInfinity(v: number): boolean {
  return v >= 18446744073709549568;
}

// --- Signals ----------------------------------------------------------------------------------

/** Signal numbers for x86_64 and aarch64 (both use the generic numbering). */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/**
 * glibc's SIGRTMIN: the kernel's is 32, but glibc keeps 32 and 33 for its threads, and
 * runc/Docker count `RTMIN+n` from 34 as well.
 */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/**
 * A signal as users write it: "KILL", "SIGKILL", "kill", "9", "RTMIN+3", "SIGRTMAX-1".
 * Throws UsageError `unknown signal "FOO"` for anything else.
 */
export function parseSignal(s: string): number {
  const bad = () => new UsageError(`unknown signal ${JSON.stringify(s)}`);
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > SIGRTMAX) throw bad();
    return n;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  const known = SIGNALS[`SIG${name}`];
  if (known !== undefined && Object.hasOwn(SIGNALS, `SIG${name}`)) return known;
  const rt = /^RT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
    const n = base + off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw bad();
}

/** The name of a signal number ("SIGTERM", "SIGRTMIN+2"), for messages. */
export function signalName(n: number): string {
  for (const [name, num] of Object.entries(SIGNALS)) if (num === n && name !== 'SIGIOT' && name !== 'SIGPOLL') return name;
  if (n >= SIGRTMIN && n <= SIGRTMAX) return n === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${n - SIGRTMIN}`;
  return String(n);
}

// --- Seccomp ----------------------------------------------------------------------------------

/** SECCOMP_RET_* for each action; ERRNO and TRACE carry a 16-bit data value in the low bits. */
export const SECCOMP_ACTIONS: Readonly<Record<SeccompAction, number>> = {
  SCMP_ACT_KILL: 0x00000000, // SECCOMP_RET_KILL_THREAD, as libseccomp's SCMP_ACT_KILL
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

/**
 * The actions this build will put in a filter. NOTIFY needs a listener socket handed to a
 * supervisor over `listenerPath`, which is not implemented; a config using it is refused.
 */
export const SECCOMP_SUPPORTED_ACTIONS: readonly SeccompAction[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_LOG',
  'SCMP_ACT_ALLOW',
];

export const SECCOMP_OPERATORS: readonly SeccompOperator[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

/** AUDIT_ARCH_* values a BPF filter compares seccomp_data.arch with. */
export const AUDIT_ARCH: Readonly<Partial<Record<SeccompArch, number>>> = {
  SCMP_ARCH_X86_64: 0xc000003e,
  SCMP_ARCH_X86: 0x40000003,
  // x32 shares x86_64's audit arch; its syscalls are told apart by __X32_SYSCALL_BIT.
  SCMP_ARCH_X32: 0xc000003e,
  SCMP_ARCH_AARCH64: 0xc00000b7,
  SCMP_ARCH_ARM: 0x40000028,
};
export const X32_SYSCALL_BIT = 0x40000000;

/**
 * Architectures a filter can name: the native ones of the two hosts we build for and their
 * compat ABIs (Docker's default profile lists X86_64+X86+X32, or AARCH64+ARM). Others are
 * refused, since their syscall numbers are not in our tables.
 */
export const SECCOMP_SUPPORTED_ARCHS: readonly SeccompArch[] = Object.keys(AUDIT_ARCH) as SeccompArch[];

/** Every architecture name of the spec (features' archs lists what we recognise). */
export const SECCOMP_ARCHS: readonly SeccompArch[] = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64',
];

/** seccomp(2) SECCOMP_FILTER_FLAG_* values. */
export const SECCOMP_FLAGS: Readonly<Record<SeccompFlag, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

/**
 * Flags we will pass to seccomp(2). WAIT_KILLABLE_RECV only means something with a NOTIFY
 * listener, which we do not support.
 */
export const SECCOMP_SUPPORTED_FLAGS: readonly SeccompFlag[] = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
];

// --- Hooks ------------------------------------------------------------------------------------

/** Hook kinds in lifecycle order (features' hooks). */
export const HOOK_KINDS = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;
