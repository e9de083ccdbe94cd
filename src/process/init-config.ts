// InitConfig: what the container needs, computed by the runtime from the validated spec (mount
// options resolved to flags, capability names to numbers, rlimits to numbers). steps.ts turns
// it, with a few facts about the host, into the ordered steps the native init executes; the
// init never sees config.json. Both are pure, so what is decided is unit-tested without root.

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'cgroup' | 'user' | 'time';

export interface MountStep {
  /** As in the config (for error messages). */
  destination: string;
  source: string;
  type: string;
  /** MS_* flags for the first mount(2) (MS_BIND|MS_REC for binds). */
  flags: number;
  /** Flags that need a second, remount pass (binds cannot take them on the first call). */
  remountFlags: number;
  /** Propagation flags to apply afterwards, each its own mount(2) call. */
  propagation: number[];
  /** Comma-joined filesystem data (options that are not flags). */
  data: string;
  /** A bind mount (source is a host path; the mount point is a file if the source is). */
  bind: boolean;
  /** Recursive options (`rro`, `rnosuid`, ...): MOUNT_ATTR_* bits for mount_setattr(AT_RECURSIVE). */
  recursiveAttr: { set: number; clear: number };
  /** An id-mapped bind (the mount's uidMappings/gidMappings): maps as /proc/<pid>/uid_map text. */
  idmap?: { uidMap: string; gidMap: string; recursive: boolean };
}

/** A user namespace the container creates: the maps the runtime writes while the init waits. */
export interface UserNamespacePlan {
  /** /proc/<pid>/uid_map and gid_map text ("containerID hostID size" lines). */
  uidMap: string;
  gidMap: string;
  /** Write "deny" to /proc/<pid>/setgroups first (an unprivileged runtime must, to map gids). */
  setgroupsDeny: boolean;
  /** Container uid 0 and gid 0 are mapped: the init becomes root in the namespace. */
  rootMapped: boolean;
}

export interface DeviceNode {
  path: string;
  type: 'c' | 'b' | 'p' | 'u';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface HookSpec {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface Capabilities {
  bounding: number[];
  effective: number[];
  permitted: number[];
  inheritable: number[];
  ambient: number[];
}

export interface Rlimit {
  name: string;
  resource: number;
  soft: number;
  hard: number;
}

export interface ProcessPlan {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  rlimits: Rlimit[];
  /** null: leave the capability sets as they are (no `process.capabilities` in the config). */
  capabilities: Capabilities | null;
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  /** AppArmor profile / SELinux label applied on execve (security/lsm.ts). */
  apparmorProfile?: string;
  selinuxLabel?: string;
  /** Personality domain (PER_LINUX / PER_LINUX32) and flags, when the config sets one. */
  personality?: number;
}

export interface SeccompPlan {
  /** The classic-BPF program, 8 bytes per instruction, base64. */
  program: string;
  /** SECCOMP_FILTER_FLAG_* bits. */
  flags: number;
  /** Load before dropping privileges (no noNewPrivileges: needs CAP_SYS_ADMIN). */
  early: boolean;
}

export interface InitConfig {
  id: string;
  /** Absolute host path of the rootfs. */
  rootfs: string;
  /** Namespaces to create (no path) or join (path), every type. */
  namespaces: { type: NamespaceType; path?: string }[];
  /** A new user namespace (`user` without a path) and its maps. */
  userNamespace?: UserNamespacePlan;
  /** A new time namespace's offsets: /proc/self/timens_offsets text. */
  timeOffsets?: string;
  /** The runtime is not root (rootless): nothing can be prepared with the host's privileges. */
  unprivileged?: boolean;
  /** Whether the init gets a mount namespace of its own (false: runs in the host's, no rootfs work). */
  mountNamespace: boolean;
  /** MS_* propagation for "/" (default rslave, as runc). */
  rootfsPropagation: number;
  rootReadonly: boolean;
  noPivot: boolean;
  mounts: MountStep[];
  /** Device nodes to create under /dev (the default set when /dev is not a bind of the host's, then linux.devices). */
  devices: DeviceNode[];
  /** /dev/fd, /dev/stdin... symlinks and /dev/ptmx (when /dev is ours). */
  devSymlinks: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  hostname?: string;
  domainname?: string;
  sysctl: Record<string, string>;
  /** cgroup.procs files the init writes its pid into, as late as it can ([] without a cgroup: rootless). */
  cgroupProcs: string[];
  /** Hierarchy name → container cgroup directory on the host (for `cgroup` mounts). */
  cgroupPaths: Record<string, string>;
  process: ProcessPlan;
  seccomp?: SeccompPlan;
  hooks: { createContainer: HookSpec[]; startContainer: HookSpec[] };
  /** The OCI state JSON (status "creating"; pid filled in by the init) for hooks' stdin. */
  hookState: Record<string, unknown>;
  /** Host path of exec.fifo. */
  fifoPath: string;
  /** fds 3 .. 3+preserveFds-1 pass through to the container process. */
  preserveFds: number;
  /** Host path of the console socket (process.terminal with --console-socket). */
  consoleSocket?: string;
}
