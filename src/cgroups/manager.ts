// The cgroup manager interface: what the container lifecycle needs from cgroups, whatever
// the host's layout (v1, v2, or hybrid: v1 controllers plus a cgroup2 "unified" mount).
//
// A manager is rebuilt from its CgroupSpec by every CLI invocation (create, start, kill,
// delete, ...). After create(), store `record()` (not the spec given to the factory) in
// state.json: it adds the directories as resolved at create time (a relative cgroupsPath
// depends on the creating process's own cgroup) and the directories create() made, which is
// exactly what destroy() removes.
import type { LinuxResources } from '../spec/generated/types.js';
import type { Stats } from './stats.js';

/** What state.json records for the container's cgroup. */
export interface CgroupSpec {
  /** Container id (names the default path). */
  id: string;
  /** linux.cgroupsPath, as the config gave it (absent: our default parent). */
  cgroupsPath?: string | undefined;
  /** --systemd-cgroup was given (refused: we implement only the cgroupfs driver). */
  systemd?: boolean | undefined;
  /**
   * No cgroup at all: a rootless container (an unprivileged runtime cannot make one). The
   * manager owns nothing; pids() and stats() are empty, freeze and kill by cgroup unavailable.
   */
  none?: boolean | undefined;
  /** Set by record(): hierarchy name → the container's directory, fixed at create time. */
  paths?: Record<string, string> | undefined;
  /**
   * Set by record(): directories create() made, parents before children. destroy() removes
   * the container's own directories (the leaves) and, of their parents, only these (and
   * only when empty). Absent (a runtime that died before saving it): the leaves, plus our
   * default parent `mydocker-runc` when it is empty.
   */
  created?: string[] | undefined;
}

export type CgroupLayout = 'v1' | 'v2' | 'hybrid';

/** runc's `events --stats` data object (see stats.ts; serialize with statsToJSON). */
export type CgroupStats = Stats;

export interface CgroupManager {
  readonly layout: CgroupLayout;
  /**
   * Hierarchy name (a v1 controller such as "memory", "cpu", "name=systemd", or "unified"
   * for cgroup2) -> absolute directory of the container's cgroup. Co-mounted v1 controllers
   * (cpu,cpuacct) appear under each name with the same directory.
   */
  readonly paths: Readonly<Record<string, string>>;
  /** The CgroupSpec to persist after create(): the input plus `paths` and `created`. */
  record(): CgroupSpec;
  /**
   * Create the container's directories (only below a parent of our own) and apply
   * `resources`. Anything the host cannot apply throws an error naming the field
   * (e.g. "linux.resources.memory.kernel: not supported on cgroup v2"); nothing is left
   * behind when it throws.
   */
  create(resources?: LinuxResources): void;
  /** The cgroup.procs files a process writes its own pid into to join every hierarchy. */
  procsFiles(): string[];
  /** Move `pid` (every thread of it) into every hierarchy of the container. */
  join(pid: number): void;
  /** Host pids of every process in the container's cgroup (and its sub-cgroups); [] if it is gone. */
  pids(): number[];
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** Change limits of a live container (`update`); only the fields given are written. */
  update(resources: LinuxResources): void;
  stats(): CgroupStats;
  /**
   * Send `signal` to every process in the cgroup: cgroup.kill for SIGKILL where the kernel
   * has it, otherwise freeze, signal each pid, thaw (so nothing forks away meanwhile).
   */
  signalAll(signal: number): void;
  /**
   * Remove the directories (deepest first, retrying briefly while the kernel still says
   * EBUSY). Kills nothing: the caller kills first. Safe to call twice.
   */
  destroy(): void;
}
