// The cgroup manager interface: what the container lifecycle needs from cgroups, whatever
// the host's layout (v1, v2, or hybrid: v1 controllers plus a cgroup2 "unified" mount).
//
// A manager is rebuilt from its CgroupSpec by every CLI invocation (create, start, kill,
// delete, ...): the spec is what state.json stores, so the paths must be a pure function of it
// plus the host's layout.

/** What state.json records for the container's cgroup. */
export interface CgroupSpec {
  /** Container id (names the default path). */
  id: string;
  /** linux.cgroupsPath, as the config gave it (absent: our default parent). */
  cgroupsPath?: string | undefined;
  /** --systemd-cgroup was given. */
  systemd?: boolean | undefined;
}

export type CgroupLayout = 'v1' | 'v2' | 'hybrid';

export interface CgroupStats {
  /** runc's `events --stats` data object: cpu, memory, pids, blkio, hugetlb (and what else is known). */
  [key: string]: unknown;
}

export interface CgroupManager {
  readonly layout: CgroupLayout;
  /** Hierarchy name (a v1 controller such as "memory", "name=systemd", or "unified" for cgroup2) -> absolute directory. */
  readonly paths: Readonly<Record<string, string>>;
  /**
   * Create the container's directories (only below a parent of our own) and apply
   * `resources`. Anything the host cannot apply throws an error naming the field
   * (e.g. "linux.resources.memory.kernel: not supported on cgroup v2"); nothing is left
   * behind when it throws.
   */
  create(resources?: unknown): void;
  /** The cgroup.procs files a process writes its own pid into to join every hierarchy. */
  procsFiles(): string[];
  /** Move `pid` into every hierarchy of the container. */
  join(pid: number): void;
  /** Host pids of every process in the container's cgroup. */
  pids(): number[];
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** Change limits of a live container (`update`). */
  update(resources: unknown): void;
  stats(): CgroupStats;
  /** Send `signal` to every process in the cgroup (v2 uses cgroup.kill for SIGKILL when available). */
  signalAll(signal: number): void;
  /** Remove the directories we created (after every process has gone); safe to call twice. */
  destroy(): void;
}
