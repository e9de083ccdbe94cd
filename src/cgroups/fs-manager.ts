// The cgroupfs manager: one implementation for v1, hybrid and v2 layouts. Directories are
// made under each hierarchy (every v1 hierarchy, plus the unified one on hybrid hosts: the
// containerd shim reads /proc/<pid>/cgroup to find memory/pids/cpuacct), resources are
// applied through apply.ts, and what was made is recorded for destroy().
import { mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { RuntimeError, UnsupportedError } from '../errors.js';
import type { LinuxResources } from '../spec/generated/types.js';
import { applyResources, type Target } from './apply.js';
import { CgroupDir, errnoCode, isVanished, sleepMs, type WriteLog } from './dir.js';
import { type HostFacts, realHost } from './host.js';
import { detectLayout, type Layout, parseProcCgroup } from './layout.js';
import type { CgroupLayout, CgroupManager, CgroupSpec, CgroupStats } from './manager.js';
import { DEFAULT_PARENT, innerPath, type InnerPath, resolveInner, SYSTEMD_UNSUPPORTED } from './paths.js';
import { freezeV1, isFrozenV1, thawV1 } from './v1/freezer.js';
import { statsV1 } from './v1/stats.js';
import { freezeV2, isFrozenV2, thawV2 } from './v2/freezer.js';
import { statsV2 } from './v2/stats.js';

export interface ManagerOptions {
  /** The host's layout (default: detected from /proc/self/mountinfo). */
  layout?: Layout;
  /** Text of /proc/self/cgroup, for relative cgroupsPaths (default: read it). */
  procSelfCgroup?: string;
  host?: HostFacts;
  /** Called for every cgroup file write (tests). */
  log?: WriteLog;
  /** Called before each mkdir (tests: simulate a concurrent destroy of a parent). */
  beforeMkdir?: (dir: string) => void;
}

interface Hierarchy {
  /** Names in `paths` ("cpu" and "cpuacct" for a co-mounted hierarchy; "unified" for cgroup2). */
  keys: string[];
  /** v1 controllers ([] for cgroup2). */
  controllers: string[];
  mount: string;
  version: 1 | 2;
  /** The container's directory. */
  dir: string;
}

const SIGKILL = 9;

class Retry extends Error {}

/** Counters for tests: how often create() started over after a parent vanished. */
export const stats = { createRetries: 0 };

function within(mount: string, dir: string): boolean {
  return dir === mount || dir.startsWith(mount.endsWith('/') ? mount : `${mount}/`);
}

export class FsCgroupManager implements CgroupManager {
  readonly layout: CgroupLayout;
  readonly paths: Readonly<Record<string, string>>;
  private readonly hiers: Hierarchy[];
  private readonly created: string[];
  private readonly inner: InnerPath | undefined;
  private readonly host: HostFacts;
  private readonly log: WriteLog | undefined;
  private readonly lay: Layout;
  private readonly beforeMkdir: ((dir: string) => void) | undefined;

  constructor(
    private readonly spec: CgroupSpec,
    opts: ManagerOptions = {},
  ) {
    this.lay = opts.layout ?? detectLayout();
    this.layout = this.lay.kind;
    this.host = opts.host ?? realHost;
    this.log = opts.log;
    this.beforeMkdir = opts.beforeMkdir;
    this.created = [...(spec.created ?? [])];
    if (spec.systemd || spec.none) {
      // Never created (create() refuses systemd; `none` has none); a manager that owns
      // nothing, so that `delete` of such a container still works.
      this.hiers = [];
      this.paths = {};
      return;
    }
    this.inner = innerPath(spec);
    this.hiers = this.buildHierarchies(opts.procSelfCgroup);
    const paths: Record<string, string> = {};
    for (const h of this.hiers) for (const k of h.keys) paths[k] = h.dir;
    this.paths = paths;
  }

  private buildHierarchies(procSelfCgroup: string | undefined): Hierarchy[] {
    const out: Hierarchy[] = [];
    for (const v of this.lay.v1) {
      out.push({ keys: [...v.controllers], controllers: v.controllers, mount: v.mount, version: 1, dir: '' });
    }
    if (this.lay.unified) out.push({ keys: ['unified'], controllers: [], mount: this.lay.unified, version: 2, dir: '' });

    const recorded = this.spec.paths;
    let own: Map<string, string> | undefined;
    for (const h of out) {
      const rec = recorded && h.keys.map((k) => recorded[k]).find((p) => p !== undefined);
      if (rec && within(h.mount, rec)) {
        h.dir = rec;
        continue;
      }
      if (this.inner!.kind === 'relative' && !own) {
        own = parseProcCgroup(procSelfCgroup ?? readFileSync('/proc/self/cgroup', 'utf8'));
      }
      const ownPath = h.version === 2 ? own?.get('') : own?.get(h.controllers[0]!);
      const inner = resolveInner(this.inner!, ownPath, h.version === 2 && this.layout === 'v2');
      h.dir = posix.join(h.mount, inner);
    }
    return out;
  }

  record(): CgroupSpec {
    const out: CgroupSpec = { id: this.spec.id };
    if (this.spec.cgroupsPath !== undefined) out.cgroupsPath = this.spec.cgroupsPath;
    if (this.spec.systemd !== undefined) out.systemd = this.spec.systemd;
    if (this.spec.none) out.none = true;
    if (!this.spec.systemd && !this.spec.none) {
      out.paths = { ...this.paths };
      out.created = [...this.created];
    }
    return out;
  }

  private dir(h: Hierarchy): CgroupDir {
    return new CgroupDir(h.dir, this.log);
  }

  private hierFor(ctrl: string): Hierarchy | undefined {
    return this.hiers.find((h) => h.version === 1 && h.controllers.includes(ctrl));
  }

  private get unifiedHier(): Hierarchy | undefined {
    return this.hiers.find((h) => h.version === 2);
  }

  private target(): Target {
    const u = this.unifiedHier;
    return {
      kind: this.layout,
      v1: (ctrl) => {
        const h = this.hierFor(ctrl);
        return h ? this.dir(h) : undefined;
      },
      unified: u ? this.dir(u) : undefined,
    };
  }

  private refuseSystemd(): void {
    if (this.spec.systemd) throw new UnsupportedError(SYSTEMD_UNSUPPORTED);
  }

  private refuseNone(what: string): void {
    if (this.spec.none) throw new UnsupportedError(`${what}: the container has no cgroup of its own (rootless: an unprivileged runtime cannot make one)`);
  }

  // ---- create ------------------------------------------------------------------------------

  create(resources?: LinuxResources): void {
    this.refuseSystemd();
    if (this.spec.none) return;
    for (let attempt = 0; ; attempt++) {
      try {
        for (const h of this.hiers) this.ensure(h);
        break;
      } catch (e) {
        // A concurrent destroy removed a shared parent between our mkdirs: start over.
        if (e instanceof Retry && attempt < 20) {
          stats.createRetries++;
          sleepMs(1 + attempt);
          continue;
        }
        this.removeCreated();
        if (e instanceof Retry) throw new RuntimeError(`cgroup ${this.spec.id}: ${e.message}`);
        throw e;
      }
    }
    try {
      // A directory that already existed is reused (a runtime that died before cleaning up),
      // but never one with processes: that cgroup belongs to someone else.
      for (const h of this.hiers) {
        if (this.created.includes(h.dir)) continue;
        const busy = new Set<number>();
        collectPids(h.dir, busy);
        if (busy.size) {
          throw new RuntimeError(`cgroup ${h.dir} already exists and has ${busy.size} process(es) in it; refusing to use it`);
        }
      }
      applyResources(this.target(), resources, { update: false, host: this.host });
    } catch (e) {
      this.removeCreated();
      throw e;
    }
  }

  /** mkdir -p of the container's directory in one hierarchy, recording what we made. */
  private ensure(h: Hierarchy): void {
    if (!within(h.mount, h.dir) || h.dir === h.mount) {
      throw new RuntimeError(`cgroup path ${h.dir} is not below ${h.mount}`);
    }
    const parts = h.dir.slice(h.mount.length).split('/').filter(Boolean);
    let parent = h.mount;
    for (const part of parts) {
      const dir = join(parent, part);
      if (h.version === 2) this.enableControllers(parent, h);
      let made = false;
      try {
        this.beforeMkdir?.(dir);
        mkdirSync(dir, 0o755);
        made = true;
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'ENOENT') throw new Retry(`${parent} disappeared while creating ${dir}`);
        if (code !== 'EEXIST') throw new RuntimeError(`cgroup: mkdir ${dir}: ${(e as Error).message}`, { cause: e });
      }
      if (made && !this.created.includes(dir)) this.created.push(dir);
      if (h.version === 1 && h.controllers.includes('cpuset')) this.initCpuset(dir, parent);
      parent = dir;
    }
  }

  /**
   * A new v1 cpuset cgroup starts with empty cpuset.cpus/mems, and no task can join it until
   * they are set: copy the parent's (as runc does).
   */
  private initCpuset(dir: string, parent: string): void {
    const d = new CgroupDir(dir, this.log);
    const p = new CgroupDir(parent, this.log);
    try {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (d.read(f) === '') d.write(`cgroup ${dir}`, f, p.read(f));
      }
    } catch (e) {
      if (isVanished(e)) throw new Retry(`${dir} disappeared while setting it up`);
      throw e;
    }
  }

  /**
   * cgroup v2: controllers reach a child only when enabled in the parent's
   * cgroup.subtree_control. On a pure v2 host we enable every available one in every
   * ancestor, best effort (as runc does; a parent with processes refuses, and the resource
   * that needs the controller then reports it). On a hybrid host we touch only parents we
   * created: the host's unified hierarchy is not ours to change.
   */
  private enableControllers(parent: string, h: Hierarchy): void {
    if (this.layout !== 'v2' && !this.created.includes(parent)) return;
    const p = new CgroupDir(parent, this.log);
    let available: string[];
    let enabled: Set<string>;
    try {
      available = (p.readIf('cgroup.controllers') ?? '').split(/\s+/).filter(Boolean);
      enabled = new Set((p.readIf('cgroup.subtree_control') ?? '').split(/\s+/).filter(Boolean));
    } catch (e) {
      if (isVanished(e)) throw new Retry(`${parent} disappeared`);
      throw e;
    }
    const missing = available.filter((c) => !enabled.has(c));
    if (!missing.length || parent === h.dir) return;
    try {
      p.write(`cgroup ${parent}`, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    } catch (e) {
      if (isVanished(e)) throw new Retry(`${parent} disappeared`);
      for (const c of missing) {
        try {
          p.write(`cgroup ${parent}`, 'cgroup.subtree_control', `+${c}`);
        } catch {
          /* best effort, see above */
        }
      }
    }
  }

  /** Remove what create() made (on failure), deepest first; shared parents stay if in use. */
  private removeCreated(): void {
    for (const h of this.hiers) if (this.created.includes(h.dir)) removeTree(h.dir, true);
    for (const d of [...this.created].sort((a, b) => b.length - a.length)) tryRmdir(d);
    this.created.length = 0;
  }

  // ---- processes ---------------------------------------------------------------------------

  private uniqueDirs(): string[] {
    return [...new Set(this.hiers.map((h) => h.dir))];
  }

  procsFiles(): string[] {
    return this.uniqueDirs().map((d) => join(d, 'cgroup.procs'));
  }

  join(pid: number): void {
    this.refuseSystemd();
    for (const d of this.uniqueDirs()) new CgroupDir(d, this.log).write(`join pid ${pid} to cgroup`, 'cgroup.procs', pid);
  }

  /** The directory that best lists the container's processes. */
  private pidsHier(): Hierarchy | undefined {
    if (this.layout === 'v2') return this.unifiedHier;
    return this.hierFor('pids') ?? this.hierFor('freezer') ?? this.hierFor('memory') ?? this.unifiedHier ?? this.hiers[0];
  }

  pids(): number[] {
    const h = this.pidsHier();
    if (!h) return [];
    const out = new Set<number>();
    collectPids(h.dir, out);
    return [...out].sort((a, b) => a - b);
  }

  private freezer(): { freeze(): void; thaw(): void; frozen(): boolean; exists(): boolean } {
    this.refuseSystemd();
    this.refuseNone('freeze');
    const v1 = this.layout !== 'v2' ? this.hierFor('freezer') : undefined;
    if (v1) {
      const d = this.dir(v1);
      return { freeze: () => freezeV1(d), thaw: () => thawV1(d), frozen: () => isFrozenV1(d), exists: () => d.has('freezer.state') };
    }
    const u = this.unifiedHier;
    if (u && (this.layout === 'v2' || this.dir(u).has('cgroup.freeze'))) {
      const d = this.dir(u);
      return { freeze: () => freezeV2(d), thaw: () => thawV2(d), frozen: () => isFrozenV2(d), exists: () => d.has('cgroup.freeze') };
    }
    throw new UnsupportedError('freeze: the freezer cgroup controller is not mounted on this host');
  }

  freeze(): void {
    this.freezer().freeze();
  }

  thaw(): void {
    this.freezer().thaw();
  }

  isFrozen(): boolean {
    if (this.spec.systemd || this.spec.none) return false;
    try {
      const f = this.freezer();
      return f.exists() && f.frozen();
    } catch (e) {
      if (e instanceof UnsupportedError || errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
  }

  signalAll(signal: number): void {
    if (this.spec.systemd || this.spec.none) return;
    const u = this.unifiedHier;
    if (signal === SIGKILL && u && this.dir(u).has('cgroup.kill')) {
      this.dir(u).write('kill', 'cgroup.kill', '1');
      if (this.layout === 'hybrid') {
        // A process in the v1 hierarchies but not the unified one (moved by someone else)
        // would escape cgroup.kill: signal what is still listed. And a task frozen by the v1
        // freezer only dies once thawed (cgroup v2's own freezer lets SIGKILL through).
        killEach(this.pids(), signal);
        if (this.isFrozen()) this.thaw();
      }
      return;
    }
    let froze = false;
    let wasFrozen = false;
    try {
      wasFrozen = this.isFrozen();
      if (!wasFrozen) {
        this.freeze();
        froze = true;
      }
    } catch {
      // No freezer (or the cgroup is gone): signal without it.
    }
    try {
      killEach(this.pids(), signal);
    } finally {
      // Thaw what we froze; a SIGKILL to a paused container only lands once thawed.
      if (froze || (wasFrozen && signal === SIGKILL)) this.thaw();
    }
  }

  // ---- limits and statistics ---------------------------------------------------------------

  update(resources: LinuxResources): void {
    this.refuseSystemd();
    this.refuseNone('update');
    for (const d of this.uniqueDirs()) {
      if (!new CgroupDir(d).has('cgroup.procs')) throw new RuntimeError(`update: the container's cgroup ${d} does not exist`);
    }
    applyResources(this.target(), resources, { update: true, host: this.host });
  }

  stats(): CgroupStats {
    this.refuseSystemd();
    this.refuseNone('stats');
    const t = this.target();
    const sizes = this.host.hugePageSizes();
    if (this.layout === 'v2') return statsV2(t.unified!, sizes);
    return statsV1(t.v1, t.unified, sizes);
  }

  // ---- destroy -----------------------------------------------------------------------------

  destroy(): void {
    if (this.spec.systemd || this.spec.none) return;
    try {
      if (this.isFrozen()) this.thaw();
    } catch {
      /* best effort: rmdir says what is wrong */
    }
    const errors: string[] = [];
    for (const d of this.uniqueDirs()) {
      try {
        removeTree(d, false);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    const parents = new Set(this.created.filter((d) => !this.uniqueDirs().includes(d)));
    if (this.inner?.kind === 'default') for (const h of this.hiers) parents.add(join(h.mount, DEFAULT_PARENT));
    for (const d of [...parents].sort((a, b) => b.length - a.length)) tryRmdir(d);
    if (errors.length) throw new RuntimeError(errors.join('; '));
    this.created.length = 0;
  }
}

function killEach(pids: number[], signal: number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (e) {
      if (errnoCode(e) !== 'ESRCH') throw e;
    }
  }
}

function collectPids(dir: string, out: Set<number>): void {
  let text: string;
  try {
    text = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  for (const line of text.split('\n')) if (line) out.add(Number(line));
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (ent.isDirectory()) collectPids(join(dir, ent.name), out);
  }
}

/** rmdir, ignoring "gone" and "still in use by someone else". */
function tryRmdir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* ENOENT: gone; ENOTEMPTY/EBUSY: a shared parent still in use */
  }
}

/**
 * Remove a cgroup and the sub-cgroups the container made inside it, deepest first. The
 * kernel may say EBUSY for a moment after the last process exits: retry for about a second.
 */
function removeTree(dir: string, quiet: boolean): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    if (quiet) return;
    throw e;
  }
  for (const ent of entries) if (ent.isDirectory()) removeTree(join(dir, ent.name), quiet);
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return;
      if (code === 'EBUSY' && attempt < 40) {
        sleepMs(Math.min(5 * (attempt + 1), 50));
        continue;
      }
      if (quiet) return;
      throw new RuntimeError(`remove cgroup ${dir}: ${(e as Error).message}${code === 'EBUSY' ? ' (processes are still in it)' : ''}`, {
        cause: e,
      });
    }
  }
}
