// InitConfig (what the container needs) → the ordered steps the native init executes
// (native/protocol.ts; native/init.c runs them). Everything decided about a container's start
// is decided here: the order, the paths, the flags, what each failure is called.
//
// The order is runc's:
//   the launcher (the process the runtime spawned, in the runtime's namespaces)
//     opens what is only reachable from the host's view (exec.fifo, cgroup.procs), makes the
//     detached id-mapped trees, joins the namespaces given by path (user first), creates a
//     user namespace and has the runtime write its maps (SYNC "userns"), creates the other
//     namespaces, and FORKs: the child is the container's process — PID 1 of a new PID
//     namespace, our parent's child (CLONE_PARENT) — and the launcher exits;
//   the container's process
//     leads its own session, lets the runtime run prestart/createRuntime (SYNC "namespaces"),
//     builds the rootfs (mounts with targets resolved inside it, devices, /dev links), runs
//     createContainer hooks, joins the cgroup (late: little of ours is charged to it) and
//     then its cgroup namespace, pivot_roots, sets up the terminal, hostname, sysctls,
//     read-only and masked paths, oom_score_adj, rlimits, LSM labels, (seccomp without
//     no_new_privs), closes stray fds, drops to the process's credentials and capabilities,
//     sets no_new_privs and cwd, finds the executable — all BEFORE it reports "ready", so a
//     capability the host cannot grant fails `create`, as in runc — then waits on exec.fifo
//     for `start`, runs startContainer hooks, loads seccomp (with no_new_privs: last) and
//     execs.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeError } from '../errors.js';
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
} from '../kernel/constants.js';
import { CAPABILITIES, NAMESPACES } from '../spec/tables.js';
import type { Capabilities, DeviceNode, HookSpec, InitConfig, MountStep, NamespaceType, ProcessPlan, SeccompPlan } from './init-config.js';
import { Plan } from './native/protocol.js';

const O_WRONLY = 0o1;
const O_DIRECTORY = 0o200000;
const O_PATH = 0o10000000;
const PR_SET_PDEATHSIG = 1;
const PR_SET_DUMPABLE = 4;
const PR_SET_KEEPCAPS = 8;
const PR_SET_NO_NEW_PRIVS = 38;
const CREATE = { none: 0, dir: 1, file: 2 } as const;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** What the plan needs to know about the host (tests pass their own). */
export interface HostView {
  /** Is this bind source a directory? undefined: it does not exist. */
  sourceIsDir(path: string): boolean | undefined;
  /** /sys/fs/cgroup's entries: a hierarchy directory, or a link (cpu -> cpu,cpuacct). */
  cgroupEntries(): { name: string; link?: string }[];
  hasKcore(): boolean;
  /** /proc/sys/kernel/cap_last_cap. */
  lastCap(): number;
  /** The capabilities the runtime can hand down (its bounding set). */
  heldCaps(): bigint;
  /** The mount point holding `path`. */
  mountPointOf(path: string): string;
  /** Linux 5.8+: the per-LSM attr directory for AppArmor. */
  apparmorExecAttr(): string;
}

export const realHost: HostView = {
  sourceIsDir(path) {
    try {
      return statSync(path).isDirectory();
    } catch {
      return undefined;
    }
  },
  cgroupEntries() {
    try {
      return readdirSync('/sys/fs/cgroup', { withFileTypes: true }).map((e) =>
        e.isSymbolicLink() ? { name: e.name, link: readlinkSync(`/sys/fs/cgroup/${e.name}`) } : { name: e.name },
      );
    } catch {
      return [];
    }
  },
  hasKcore: () => existsSync('/proc/kcore'),
  lastCap() {
    try {
      return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      return 40;
    }
  },
  heldCaps() {
    try {
      return BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
    } catch {
      return 0n;
    }
  },
  mountPointOf(path) {
    let best = '/';
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const mp = line.split(' ')[4];
      if (mp && (path === mp || path.startsWith(mp.endsWith('/') ? mp : `${mp}/`)) && mp.length > best.length) best = mp;
    }
    return best;
  },
  apparmorExecAttr: () => (existsSync('/proc/thread-self/attr/apparmor/exec') ? '/proc/thread-self/attr/apparmor/exec' : '/proc/thread-self/attr/exec'),
};

/** Flags a remount must carry over from the mount as it is (a user namespace's locked ones). */
const KEEP_BASIC = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
const KEEP_ATIME = MS_NOATIME | MS_NODIRATIME | MS_RELATIME;

/** The fds the plan sends along (owned by the caller, closed by it after sending). */
export interface CreateFds {
  /** The connected console socket (process.terminal). */
  console?: number;
}

/** The steps of `create`: from the launcher to the init blocked on exec.fifo, then the exec. */
export function createPlan(cfg: InitConfig, fds: CreateFds = {}, host: HostView = realHost): Plan {
  const p = new Plan();
  const ctx = (s: string) => p.op('CONTEXT').str(s);
  const userns = cfg.namespaces.some((n) => n.type === 'user');

  // ---- the launcher: what is only reachable from the host's view, first ------------------
  // A runtime killed mid-create takes the launcher and, until it is ready, the container's
  // process with it (the kernel's SIGKILL; a fork does not inherit the setting).
  p.op('CONTEXT').str('prctl PR_SET_PDEATHSIG');
  p.op('PRCTL').u32(PR_SET_PDEATHSIG).i64(9);
  ctx(`exec.fifo ${cfg.fifoPath}`);
  const fifo = p.newSlot();
  p.op('OPEN').u32(fifo).str(cfg.fifoPath).u32(O_PATH);
  const cgroupSlots = cfg.cgroupProcs.map((file) => {
    ctx(`join cgroup ${dirname(file)}`);
    const slot = p.newSlot();
    p.op('OPEN').u32(slot).str(file).u32(O_WRONLY);
    return { slot, dir: dirname(file) };
  });
  const consoleSlot = fds.console !== undefined ? p.passFd(fds.console) : undefined;
  // Id-mapped mounts: detached copies made while we still hold the host's privileges, moved
  // into place inside the container's mount namespace later.
  // Bind sources as detached trees, made while we still hold the host's privileges and view,
  // moved into place inside the container's mount namespace later: the id-mapped ones, and in
  // a user namespace every bind (its root may not reach the source, and a mount of another
  // namespace cannot be bound from there). An unprivileged runtime has no such privileges:
  // its binds are its own files, reachable from inside.
  const trees = new Map<MountStep, number>();
  cfg.mounts.forEach((m, i) => {
    if (!m.idmap && !(userns && m.bind && !cfg.unprivileged)) return;
    ctx(`mounts[${i}] ${m.source} on ${m.destination}${m.idmap ? ' (id-mapped)' : ''}`);
    const slot = p.newSlot();
    const recursive = ((m.flags & MS_REC) !== 0 ? 1 : 0) | (m.idmap?.recursive ? 2 : 0);
    p.op('CLONE_TREE').u32(slot).str(m.source).u32(recursive).str(m.idmap?.uidMap ?? '').str(m.idmap?.gidMap ?? '');
    trees.set(m, slot);
  });

  // ---- namespaces --------------------------------------------------------------------------
  namespaceSteps(p, cfg);
  p.op('CONTEXT').str('fork the container process');
  p.op('FORK');

  // ---- the container's process -------------------------------------------------------------
  p.op('PRCTL').u32(PR_SET_PDEATHSIG).i64(9);
  p.op('SETSID');
  p.op('TRACE').str('namespaces made');
  p.op('SYNC').str('namespaces');

  let root = -1;
  if (cfg.mountNamespace) {
    ctx('linux.rootfsPropagation');
    p.op('MOUNT').str('').str('/').str('').i64(MS_REC | cfg.rootfsPropagation).str('');
    ctx(`root.path ${cfg.rootfs}`);
    // pivot_root refuses a new root whose parent mount is shared (runc's rootfsParentMountPrivate).
    if (cfg.rootfsPropagation & MS_SHARED) p.op('MOUNT').str('').str(host.mountPointOf(cfg.rootfs)).str('').i64(MS_PRIVATE).str('');
    p.op('MOUNT').str(cfg.rootfs).str(cfg.rootfs).str('').i64(MS_BIND | MS_REC).str('');
  }
  ctx(`root.path ${cfg.rootfs}`);
  root = p.newSlot();
  p.op('OPEN').u32(root).str(cfg.rootfs).u32(O_PATH | O_DIRECTORY);
  cfg.mounts.forEach((m, i) => mountSteps(p, cfg, m, i, root, trees.get(m), userns, host));
  if (cfg.devices.length) deviceSteps(p, cfg.devices, root, userns, !cfg.mountNamespace);
  if (cfg.devSymlinks) devSymlinkSteps(p, root, host);
  p.op('TRACE').str('rootfs mounted');
  hookSteps(p, 'createContainer', cfg.hooks.createContainer, cfg.hookState);

  // The cgroup, as late as possible (what we touched so far stays charged to the runtime's),
  // then its namespace, whose root it then is.
  for (const { slot, dir } of cgroupSlots) {
    ctx(`join cgroup ${dir}`);
    p.op('WRITE_SLOT').u32(slot).str('0');
    p.op('CLOSE').u32(slot);
  }
  const cgroupNs = cfg.namespaces.find((n) => n.type === 'cgroup');
  if (cgroupNs?.path) {
    ctx(`linux.namespaces cgroup path ${cgroupNs.path}`);
    p.op('SETNS_PATH').str(cgroupNs.path).u32(CLONE_NEWCGROUP);
  } else if (cgroupNs) {
    ctx('linux.namespaces cgroup');
    p.op('UNSHARE').u32(CLONE_NEWCGROUP);
  }
  p.op('TRACE').str('cgroups joined');

  if (cfg.mountNamespace) {
    ctx(`${cfg.noPivot ? 'chroot (--no-pivot)' : 'pivot_root'} into root.path ${cfg.rootfs}`);
    p.op(cfg.noPivot ? 'MOVE_ROOT' : 'PIVOT_ROOT').str(cfg.rootfs);
  } else {
    // No mount namespace: the rootfs is entered with chroot, as runc does.
    ctx(`chroot into root.path ${cfg.rootfs} (no mount namespace)`);
    p.op('CHROOT_SLOT').u32(root);
    root = -1;
  }
  if (root >= 0) p.op('CLOSE').u32(root);

  // The terminal, now that /dev/ptmx is the container's devpts (and before the rootfs turns
  // read-only, runc's order): the slave becomes our 0/1/2, so the runtime's stdio is no longer
  // held by the time `create` returns.
  if (cfg.process.terminal && consoleSlot !== undefined) {
    ctx('process.terminal');
    const size = cfg.process.consoleSize;
    // /dev/console bound to the slave, in the container's own mount namespace only.
    p.op('CONSOLE').u32(consoleSlot).u32(size?.height ?? 0).u32(size?.width ?? 0).u32(cfg.mountNamespace ? 1 : 0);
  }
  if (cfg.hostname !== undefined) ctx(`hostname ${JSON.stringify(cfg.hostname)}`), p.op('SETHOSTNAME').str(cfg.hostname);
  if (cfg.domainname !== undefined) ctx(`domainname ${JSON.stringify(cfg.domainname)}`), p.op('SETDOMAINNAME').str(cfg.domainname);
  // Sysctls before readonlyPaths: /proc/sys is usually one of them.
  for (const [key, value] of Object.entries(cfg.sysctl)) {
    ctx(`linux.sysctl ${key}=${JSON.stringify(value)}`);
    p.op('WRITE_FILE').str(`/proc/sys/${key.replace(/\./g, '/')}`).str(value);
  }
  if (cfg.mountNamespace) {
    for (const path of cfg.readonlyPaths) ctx(`linux.readonlyPaths ${path}`), p.op('READONLY').str(path);
    for (const path of cfg.maskedPaths) ctx(`linux.maskedPaths ${path}`), p.op('MASK').str(path);
    if (cfg.rootReadonly) ctx('root.readonly'), p.op('REMOUNT_RO').str('/');
  }

  processSteps(p, cfg.process, cfg.seccomp, cfg.preserveFds, host, !!cfg.userNamespace?.setgroupsDeny);
  p.op('TRACE').str('ready');
  // From here on the container outlives the runtime (create returns, the shim adopts it).
  p.op('PRCTL').u32(PR_SET_PDEATHSIG).i64(0);
  p.op('REPORT').str('ready');
  p.op('CONTEXT').str('start');
  p.op('WAIT_FIFO').u32(fifo);
  p.op('TRACE').str('started');
  hookSteps(p, 'startContainer', cfg.hooks.startContainer, { ...cfg.hookState, status: 'running' });
  execSteps(p, cfg.process, cfg.seccomp);
  return p;
}

/** Join by path (user first, runc's order), create a user namespace and get its maps, create the rest. */
function namespaceSteps(p: Plan, cfg: InitConfig): void {
  const ctx = (s: string) => p.op('CONTEXT').str(s);
  const order: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'time', 'mount'];
  for (const type of order) {
    const ns = cfg.namespaces.find((n) => n.type === type && n.path);
    if (!ns) continue;
    ctx(`linux.namespaces ${type} path ${ns.path}`);
    p.op('SETNS_PATH').str(ns.path!).u32(NAMESPACES[type].flag);
    if (type === 'user') {
      // Root in the namespace joined (our host ids are not mapped there): what we create next
      // (mount points, device files) is then owned by its root, as in runc's stage 2.
      ctx(`linux.namespaces user path ${ns.path}: become root in it`);
      p.op('SETRESGID').u32(0);
      p.op('SETRESUID').u32(0);
    }
  }
  if (cfg.userNamespace) {
    const u = cfg.userNamespace;
    ctx('linux.namespaces user');
    p.op('UNSHARE').u32(CLONE_NEWUSER);
    // Dumpable while the runtime writes /proc/<pid>/uid_map (an unprivileged runtime could not
    // open a non-dumpable process's files), and only then.
    p.op('PRCTL').u32(PR_SET_DUMPABLE).i64(1);
    p.op('SYNC').str('userns');
    p.op('PRCTL').u32(PR_SET_DUMPABLE).i64(0);
    if (u.rootMapped) {
      ctx('linux.uidMappings/gidMappings: become root in the user namespace');
      p.op('SETRESGID').u32(0);
      p.op('SETRESUID').u32(0);
    }
  }
  let flags = 0;
  const created: string[] = [];
  for (const n of cfg.namespaces) {
    if (n.path || n.type === 'user' || n.type === 'cgroup') continue;
    flags |= NAMESPACES[n.type].flag;
    created.push(n.type);
  }
  if (flags) {
    ctx(`linux.namespaces ${created.join(', ')}`);
    p.op('UNSHARE').u32(flags);
  }
  if (cfg.timeOffsets && flags & CLONE_NEWTIME) {
    ctx('linux.timeOffsets');
    p.op('WRITE_FILE').str('/proc/self/timens_offsets').str(cfg.timeOffsets);
  }
}

function mountSteps(
  p: Plan,
  cfg: InitConfig,
  m: MountStep,
  i: number,
  root: number,
  tree: number | undefined,
  userns: boolean,
  host: HostView,
): void {
  const what = `mounts[${i}] ${m.source || m.type} on ${m.destination}`;
  p.op('CONTEXT').str(what);
  if (m.type === 'cgroup' || m.type === 'cgroup2') {
    cgroupViewSteps(p, cfg, m, root, host);
  } else if (tree !== undefined) {
    // (A detached tree always comes up without the flags: REMOUNT_IN_ROOT below sets them.)
    const isDir = host.sourceIsDir(m.source);
    if (isDir === undefined) throw new RuntimeError(`${what}: bind source ${m.source} does not exist`);
    p.op('MOVE_MOUNT_IN_ROOT').u32(tree).u32(root).str(m.destination).u32(isDir ? CREATE.dir : CREATE.file);
  } else if (m.bind) {
    const isDir = host.sourceIsDir(m.source);
    if (isDir === undefined) throw new RuntimeError(`${what}: bind source ${m.source} does not exist`);
    p.op('MOUNT_IN_ROOT').u32(root).str(m.destination).u32(isDir ? CREATE.dir : CREATE.file).str(m.source).str('').i64(m.flags).str('');
  } else {
    p.op('MOUNT_IN_ROOT').u32(root).str(m.destination).u32(CREATE.dir).str(m.source || m.type).str(m.type).i64(m.flags).str(m.data);
  }
  if (m.bind && m.remountFlags) {
    // The flags of a bind mount take a remount, which replaces all of them: carry over what
    // the mount already has (nosuid/nodev of the source; in a user namespace, locked flags).
    p.op('REMOUNT_IN_ROOT').u32(root).str(m.destination).i64(MS_BIND | m.remountFlags).i64(KEEP_BASIC | (userns ? KEEP_ATIME : 0));
  }
  if (m.recursiveAttr.set || m.recursiveAttr.clear) {
    p.op('SETATTR_IN_ROOT').u32(root).str(m.destination).i64(m.recursiveAttr.set).i64(m.recursiveAttr.clear);
  }
  for (const prop of m.propagation) p.op('MOUNT_IN_ROOT').u32(root).str(m.destination).u32(CREATE.none).str('').str('').i64(prop).str('');
  if (!cfg.mountNamespace) p.op('RECORD_MOUNT').u32(root).str(m.destination);
}

/**
 * A `cgroup` mount: on a pure cgroup2 host the container's own cgroup directory; on v1 and
 * hybrid hosts runc 1.1's layout — a read-write tmpfs (mode 755) with one bind of the
 * container's directory per v1 hierarchy, named as on the host, each read-only when the
 * config says so, the host's links (cpu -> cpu,cpuacct), and no cgroup2 `unified` (runc mounts
 * only the v1 hierarchies; a program that finds cgroup2 there takes the host for a v2 one).
 * Without a cgroup of its own (rootless), an empty read-only tmpfs.
 */
function cgroupViewSteps(p: Plan, cfg: InitConfig, m: MountStep, root: number, host: HostView): void {
  const readonly = (m.flags & MS_RDONLY) !== 0;
  const base = m.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  const paths = cfg.cgroupPaths;
  const names = Object.keys(paths);
  const remount = (dest: string) =>
    p.op('REMOUNT_IN_ROOT').u32(root).str(dest).i64(MS_BIND | base | (readonly ? MS_RDONLY : 0)).i64(KEEP_BASIC & ~MS_RDONLY);
  if (names.length === 1 && paths.unified !== undefined) {
    p.op('MOUNT_IN_ROOT').u32(root).str(m.destination).u32(CREATE.dir).str(paths.unified).str('').i64(MS_BIND | MS_REC).str('');
    remount(m.destination);
    return;
  }
  if (!names.length) {
    p.op('MOUNT_IN_ROOT').u32(root).str(m.destination).u32(CREATE.dir).str('tmpfs').str('tmpfs').i64(base | MS_RDONLY).str('mode=755');
    return;
  }
  p.op('MOUNT_IN_ROOT').u32(root).str(m.destination).u32(CREATE.dir).str('tmpfs').str('tmpfs').i64(base).str('mode=755');
  const dirOf = (name: string): string | undefined => {
    for (const [key, path] of Object.entries(paths)) {
      if (key === 'unified') continue;
      if (path.startsWith(`/sys/fs/cgroup/${name}/`) || path === `/sys/fs/cgroup/${name}` || key === name) return path;
    }
    return undefined;
  };
  for (const e of host.cgroupEntries()) {
    const dest = `${m.destination}/${e.name}`;
    if (e.link !== undefined) {
      p.op('SYMLINK_IN_ROOT').u32(root).str(m.destination).str(e.name).str(e.link).u32(0);
      continue;
    }
    const source = dirOf(e.name);
    if (!source || source === paths.unified) continue;
    p.op('MOUNT_IN_ROOT').u32(root).str(dest).u32(CREATE.dir).str(source).str('').i64(MS_BIND | MS_REC).str('');
    remount(dest);
  }
}

/**
 * Device nodes: mknod, owned and moded as configured. In a user namespace mknod is refused,
 * so the host's node is bound onto an empty file instead (runc's way).
 */
function deviceSteps(p: Plan, devices: DeviceNode[], root: number, userns: boolean, record: boolean): void {
  for (const d of devices) {
    p.op('CONTEXT').str(`device ${d.path}`);
    if (userns) {
      p.op('MOUNT_IN_ROOT').u32(root).str(d.path).u32(CREATE.file).str(d.path).str('').i64(MS_BIND).str('');
      if (record) p.op('RECORD_MOUNT').u32(root).str(d.path);
      continue;
    }
    const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    p.op('MKNOD_IN_ROOT').u32(root).str(d.path).u32(kind | (d.fileMode & 0o7777)).i64(makedev(d.major, d.minor)).u32(d.uid).u32(d.gid);
  }
}

function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx → pts/ptmx, as runc makes them. */
function devSymlinkSteps(p: Plan, root: number, host: HostView): void {
  p.op('CONTEXT').str('/dev symlinks');
  const links: [string, string][] = [
    ['/proc/self/fd', 'fd'],
    ['/proc/self/fd/0', 'stdin'],
    ['/proc/self/fd/1', 'stdout'],
    ['/proc/self/fd/2', 'stderr'],
  ];
  if (host.hasKcore()) links.push(['/proc/kcore', 'core']);
  links.push(['pts/ptmx', 'ptmx']);
  for (const [target, name] of links) p.op('SYMLINK_IN_ROOT').u32(root).str('/dev').str(name).str(target).u32(name === 'ptmx' ? 1 : 0);
}

/** OCI hooks run by the init (in the container's namespaces); the state's pid is the init's own. */
function hookSteps(p: Plan, kind: string, hooks: HookSpec[], state: Record<string, unknown>): void {
  if (!hooks.length) return;
  const json = JSON.stringify({ ...state, pid: 0 });
  const at = json.indexOf('"pid":0') + '"pid":'.length;
  hooks.forEach((h, i) => {
    p.op('CONTEXT').str(`${kind} hook #${i} (${h.path})`);
    p.op('HOOK').str(h.path).strs(h.args?.length ? h.args : [h.path]).strs(h.env ?? []).u32(h.timeout ?? 0).str(json.slice(0, at)).str(json.slice(at + 1));
  });
}

/**
 * The process's own attributes, shared by create and exec, up to (not including) the exec:
 * oom_score_adj, rlimits, LSM labels, seccomp without no_new_privs (it needs CAP_SYS_ADMIN),
 * fds, bounding set, groups/gid/uid (keeping the permitted set across the switch), cwd, umask,
 * capabilities, no_new_privs, the environment with HOME, the executable.
 */
function processSteps(p: Plan, proc: ProcessPlan, seccomp: SeccompPlan | undefined, preserveFds: number, host: HostView, setgroupsDenied: boolean): void {
  const ctx = (s: string) => p.op('CONTEXT').str(s);
  if (proc.oomScoreAdj !== undefined) {
    ctx(`process.oomScoreAdj ${proc.oomScoreAdj}`);
    p.op('WRITE_FILE').str('/proc/self/oom_score_adj').str(String(proc.oomScoreAdj));
  }
  for (const r of proc.rlimits) {
    ctx(`process.rlimits ${r.name} (soft ${r.soft}, hard ${r.hard})`);
    p.op('SETRLIMIT').u32(r.resource).i64(clampRlimit(r.soft)).i64(clampRlimit(r.hard));
  }
  if (proc.apparmorProfile) {
    ctx(`process.apparmorProfile ${JSON.stringify(proc.apparmorProfile)}`);
    p.op('WRITE_FILE').str(host.apparmorExecAttr()).str(`exec ${proc.apparmorProfile}`);
  }
  if (proc.selinuxLabel) {
    ctx(`process.selinuxLabel ${JSON.stringify(proc.selinuxLabel)}`);
    p.op('WRITE_FILE').str('/proc/thread-self/attr/exec').str(proc.selinuxLabel);
  }
  if (seccomp?.early) {
    ctx('linux.seccomp: loading the filter');
    p.op('SECCOMP').u32(seccomp.flags).bytes(Buffer.from(seccomp.program, 'base64'));
  }
  ctx('close the fds the process does not inherit');
  p.op('CLOSE_FROM').u32(3 + preserveFds);
  // The environment (with HOME from the container's /etc/passwd) while we are still root.
  p.op('ENV').strs(proc.env);
  p.op('HOME').u32(proc.uid);
  const caps = proc.capabilities;
  if (caps) {
    ctx('process.capabilities.bounding');
    p.op('CAP_BOUNDING').i64(mask(caps.bounding)).u32(host.lastCap());
  }
  if (!(setgroupsDenied && !proc.additionalGids.length)) {
    ctx(`process.user.additionalGids [${proc.additionalGids.join(', ')}]`);
    p.op('SETGROUPS').u32(proc.additionalGids.length);
    for (const g of proc.additionalGids) p.u32(g);
  }
  ctx('process.user');
  p.op('PRCTL').u32(PR_SET_KEEPCAPS).i64(1);
  ctx(`process.user.gid ${proc.gid}`);
  p.op('SETRESGID').u32(proc.gid);
  ctx(`process.user.uid ${proc.uid}`);
  p.op('SETRESUID').u32(proc.uid);
  p.op('PRCTL').u32(PR_SET_KEEPCAPS).i64(0);
  ctx(`process.cwd ${proc.cwd}`);
  p.op('CHDIR').str(proc.cwd);
  if (proc.umask !== undefined) p.op('UMASK').u32(proc.umask);
  if (caps) {
    ctx(capabilityContext(caps, host.heldCaps()));
    p.op('CAPSET').i64(mask(caps.effective)).i64(mask(caps.permitted)).i64(mask(caps.inheritable));
    ctx('process.capabilities.ambient');
    p.op('CAP_AMBIENT').i64(mask(caps.ambient));
  }
  if (proc.noNewPrivileges) {
    ctx('process.noNewPrivileges');
    p.op('PRCTL').u32(PR_SET_NO_NEW_PRIVS).i64(1);
  }
  ctx('process.args[0]');
  p.op('LOOKUP').str(proc.args[0]!);
}

/** After the process is released: seccomp with no_new_privs (as few of our syscalls under it as possible), clean signals, execve. */
function execSteps(p: Plan, proc: ProcessPlan, seccomp: SeccompPlan | undefined): void {
  if (seccomp && !seccomp.early) {
    p.op('CONTEXT').str('linux.seccomp: loading the filter');
    p.op('SECCOMP').u32(seccomp.flags).bytes(Buffer.from(seccomp.program, 'base64'));
  }
  p.op('RESET_SIGNALS');
  p.op('CONTEXT').str('process.args[0]');
  p.op('EXEC').strs(proc.args);
}

function clampRlimit(v: number | bigint): bigint {
  const max = 0xffffffffffffffffn;
  const b = BigInt(v);
  return b >= max || b < 0n ? -1n : b;
}

function mask(caps: number[]): bigint {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(c);
  return m;
}

/** What a failed capset names: the capabilities asked for that the runtime cannot hand down. */
export function capabilityContext(caps: Capabilities, held: bigint): string {
  const names = Object.fromEntries(Object.entries(CAPABILITIES).map(([k, v]) => [v, k]));
  for (const set of ['permitted', 'effective', 'inheritable', 'ambient'] as const) {
    const missing = caps[set].filter((c) => !((held >> BigInt(c)) & 1n)).map((c) => names[c] ?? `capability ${c}`);
    if (missing.length) return `process.capabilities.${set}: ${missing.join(', ')} not held by the runtime`;
  }
  return 'process.capabilities';
}

/** How `exec` enters the container: fds of the init's namespaces (and root), opened by the runtime. */
export interface ExecEntry {
  /** Namespaces to join, in order: user first, then ipc, uts, net, cgroup, mnt; pid last (for the fork). */
  namespaces: { type: string; flag: number; fd: number }[];
  /** An O_PATH fd of the init's root, when it has no mount namespace of its own (chroot). */
  root?: number;
  /** cgroup.procs files of the container ([] without a cgroup). */
  cgroupProcs: string[];
  /** The connected console socket (process.terminal). */
  console?: number;
  preserveFds: number;
  /** The container's user namespace denies setgroups (a rootless container). */
  setgroupsDenied: boolean;
}

/** The order `exec` joins the init's namespaces in (/proc/<pid>/ns names). */
export const EXEC_JOIN_ORDER: [string, number][] = [
  ['user', CLONE_NEWUSER],
  ['ipc', CLONE_NEWIPC],
  ['uts', CLONE_NEWUTS],
  ['net', CLONE_NEWNET],
  ['cgroup', CLONE_NEWCGROUP],
  ['mnt', CLONE_NEWNS],
  ['pid', CLONE_NEWPID],
];

/** The steps of `exec`: join the container, fork into its PID namespace, become the process. */
export function execPlan(proc: ProcessPlan, entry: ExecEntry, seccomp: SeccompPlan | undefined, host: HostView = realHost): Plan {
  const p = new Plan();
  const ctx = (s: string) => p.op('CONTEXT').str(s);
  p.op('CONTEXT').str('prctl PR_SET_PDEATHSIG');
  p.op('PRCTL').u32(PR_SET_PDEATHSIG).i64(9);
  // cgroup.procs while the host's /sys/fs/cgroup is in view; written by the process itself.
  const cgroupSlots = entry.cgroupProcs.map((file) => {
    ctx(`join cgroup ${dirname(file)}`);
    const slot = p.newSlot();
    p.op('OPEN').u32(slot).str(file).u32(O_WRONLY);
    return { slot, dir: dirname(file) };
  });
  const consoleSlot = entry.console !== undefined ? p.passFd(entry.console) : undefined;
  const rootSlot = entry.root !== undefined ? p.passFd(entry.root) : undefined;
  for (const ns of entry.namespaces) {
    ctx(`join the container's ${ns.type} namespace`);
    p.op('SETNS_SLOT').u32(p.passFd(ns.fd)).u32(ns.flag);
  }
  if (rootSlot !== undefined) {
    ctx("enter the container's root (chroot)");
    p.op('CHROOT_SLOT').u32(rootSlot);
  }
  p.op('CONTEXT').str('fork into the container');
  p.op('FORK');
  p.op('PRCTL').u32(PR_SET_PDEATHSIG).i64(9);
  p.op('SETSID');
  p.op('TRACE').str('namespaces joined');
  for (const { slot, dir } of cgroupSlots) {
    ctx(`join cgroup ${dir}`);
    p.op('WRITE_SLOT').u32(slot).str('0');
    p.op('CLOSE').u32(slot);
  }
  p.op('TRACE').str('cgroups joined');
  if (proc.terminal) {
    if (consoleSlot === undefined) throw new RuntimeError('process.terminal: no console socket to send the terminal to');
    ctx('process.terminal');
    p.op('CONSOLE').u32(consoleSlot).u32(proc.consoleSize?.height ?? 0).u32(proc.consoleSize?.width ?? 0).u32(0);
  }
  processSteps(p, proc, seccomp, entry.preserveFds, host, entry.setgroupsDenied);
  // The process outlives the runtime (exec --detach); execve would keep the setting.
  p.op('PRCTL').u32(PR_SET_PDEATHSIG).i64(0);
  p.op('REPORT').str('exec');
  execSteps(p, proc, seccomp);
  return p;
}
