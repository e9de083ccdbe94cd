// `exec`, the runtime's side: a new process inside an existing container.
//
// The recipe is the init's (launch.ts): the helper (dist/exec-init.js) is spawned from our
// main thread, in the container's PID namespace (setns on the pid namespace only moves where
// the next child is born) and in a launch mount namespace where node is a read-only bind. It
// joins the other namespaces from fds we open here on /proc/<init>/ns/* (opened, then the
// init's identity re-checked, so a recycled pid can never lend us a stranger's namespaces),
// applies the process and execve()s in place: its pid is the process's pid, our direct child,
// with no Node process of ours between them once it runs. With --detach we exit at once and
// the kernel reparents it to our parent's subreaper (containerd's shim, conmon).
//
// Which process runs: `--process process.json` as given (validated by the spec layer), or the
// container's own config.json process with the command and flags applied as runc does.
import type { ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, readFileSync, statSync } from 'node:fs';
import { cgroupManager } from '../cgroups/index.js';
import { load } from '../container/lifecycle.js';
import { assertTransition, initAlive, type PersistedState } from '../container/state.js';
import { writeAtomic, type Store } from '../container/store.js';
import { RuntimeError, UnsupportedError, UsageError, withContext } from '../errors.js';
import { O_CLOEXEC, O_RDONLY, open, socketpair, SOCK_CLOEXEC, SOCK_STREAM } from '../kernel/files.js';
import { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS } from '../kernel/constants.js';
import { getWinSize, isatty } from '../kernel/pty.js';
import { planSeccomp } from '../security/seccomp.js';
import { loadBundle } from '../spec/bundle.js';
import { checkConfig } from '../spec/check.js';
import type { Process, Spec } from '../spec/generated/types.js';
import { parseJson, validateProcess } from '../spec/validate.js';
import { waitReadableWarm, warmCgroupLock } from './cgroup-warm.js';
import { connectConsoleSocket, receiveMasterFrom } from './console.js';
import { receiveMessage, sendMessage, type ExecConfig, type ExecNamespace, type FromExec } from './exec-protocol.js';
import { abandon, distScriptPath, launchInit, type Launched } from './launch.js';
import { planProcess } from './plan.js';

/** The process-shaping flags of `exec` (ignored with --process, as in runc). */
export interface ExecFlags {
  cwd?: string;
  env?: string[];
  tty?: boolean;
  user?: string;
  additionalGids?: string[];
  apparmor?: string;
  processLabel?: string;
  noNewPrivs?: boolean;
  cap?: string[];
}

export interface ExecRequest {
  id: string;
  /** `--process`: a process.json path. */
  processFile?: string;
  /** The command and its arguments (without --process). */
  args: string[];
  flags: ExecFlags;
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
  preserveFds: number;
  /** Allow exec into a paused container (the process starts when it is resumed). */
  ignorePaused?: boolean;
  /** The process's stdio when it has no terminal (default: ours). */
  stdio?: [number, number, number];
}

export interface ExecStarted {
  child: ChildProcess;
  /** Host pid of the new process. */
  pid: number;
  /** Foreground terminal (no --console-socket): the pty master, ours to copy; else -1. */
  master: number;
  warnings: string[];
}

/** Namespaces the helper joins besides pid, in order: the mount namespace last. */
const JOIN_ORDER: [string, number][] = [
  ['ipc', CLONE_NEWIPC],
  ['uts', CLONE_NEWUTS],
  ['net', CLONE_NEWNET],
  ['cgroup', CLONE_NEWCGROUP],
  ['mnt', CLONE_NEWNS],
];

export function execInContainer(store: Store, req: ExecRequest): ExecStarted {
  const { state, status } = load(store, req.id);
  if (!(status === 'paused' && req.ignorePaused)) assertTransition(req.id, 'exec', status);
  if (req.preserveFds < 0 || !Number.isInteger(req.preserveFds)) {
    throw new UsageError(`--preserve-fds ${req.preserveFds}: must be a non-negative integer`);
  }

  const { process: proc, config, label } = resolveProcess(store, state, req);
  const warnings: string[] = [];
  const plan = planProcess(proc, warnings, label);
  if (!plan.args.length) throw new UsageError(`${label}: args must not be empty`);

  // runc's rules for terminals, checked before anything is opened or spawned.
  if (req.consoleSocket && !plan.terminal) {
    throw new UsageError(`--console-socket ${req.consoleSocket}: the process has no terminal (use --tty)`);
  }
  if (req.consoleSocket && !req.detach) {
    throw new UsageError(`--console-socket ${req.consoleSocket}: only with --detach (a foreground exec attaches the terminal itself)`);
  }
  if (plan.terminal && req.detach && !req.consoleSocket) {
    throw new UsageError('--tty with --detach: a --console-socket is needed to receive the terminal');
  }
  if (plan.terminal && !req.consoleSocket && !plan.consoleSize) {
    // A foreground terminal starts at our window's size (no SIGWINCH as soon as it runs).
    const fd = [0, 1, 2].find((f) => isatty(f));
    const size = fd === undefined ? null : getWinSize(fd);
    if (size && size.rows > 0 && size.cols > 0) plan.consoleSize = { height: size.rows, width: size.cols };
  }
  const seccomp = planSeccomp(config?.linux?.seccomp, plan.noNewPrivileges);

  const opened: number[] = [];
  let launched: Launched | undefined;
  let ourConsole = -1;
  try {
    // The container's namespaces, from its init; only those that differ from ours.
    const namespaces: { type: string; flag: number; fd: number }[] = [];
    let pidNs: number | undefined;
    for (const [type, flag] of [['pid', 0] as [string, number], ...JOIN_ORDER]) {
      const fd = openNamespace(state, type);
      opened.push(fd);
      if (sameNamespace(fd, type)) continue;
      if (type === 'pid') pidNs = fd;
      else namespaces.push({ type, flag, fd });
    }
    const userFd = openNamespace(state, 'user');
    opened.push(userFd);
    if (!sameNamespace(userFd, 'user')) throw new UnsupportedError(`container ${req.id} has a user namespace: exec into it is not supported`);
    // The fds name the namespaces of the process whose pid we read: make sure it is still our init.
    if (!initAlive(state)) throw new RuntimeError(`container ${req.id}: its init exited`);

    let consoleFd = -1;
    if (plan.terminal) {
      if (req.consoleSocket) consoleFd = connectConsoleSocket(req.consoleSocket);
      else [ourConsole, consoleFd] = socketpair(SOCK_STREAM | SOCK_CLOEXEC);
      opened.push(consoleFd);
    }

    const extra = [...namespaces.map((n) => n.fd), ...(consoleFd >= 0 ? [consoleFd] : [])];
    launched = launchInit({
      pidNamespace: pidNs !== undefined ? { path: `/proc/self/fd/${pidNs}` } : null,
      stdio: req.stdio ?? [0, 1, 2],
      preserveFds: req.preserveFds,
      script: distScriptPath('exec-init.js'),
      extraFds: extra,
      name: 'mydocker-runc-exec',
    });
    for (const fd of opened.splice(0)) closeSync(fd);

    const childFds = launched.extraFds;
    const config: ExecConfig = {
      id: req.id,
      process: plan,
      namespaces: namespaces.map((n, i): ExecNamespace => ({ type: n.type, flag: n.flag, fd: childFds[i]! })),
      cgroupProcs: cgroupManager(state.cgroup).procsFiles(),
      consoleFd: consoleFd >= 0 ? childFds[namespaces.length]! : -1,
      preserveFds: req.preserveFds,
      ...(seccomp ? { seccomp } : {}),
    };
    sendMessage(launched.sync, { type: 'config', config });
    // Its join of the container's cgroup finds the migration lock warm (cgroup-warm.ts).
    warmCgroupLock();
    awaitExec(launched);
    closeSync(launched.sync);

    const master = ourConsole >= 0 ? receiveMasterFrom(ourConsole) : -1;
    if (ourConsole >= 0) closeSync(ourConsole);
    ourConsole = -1;
    const pidFile = req.pidFile;
    if (pidFile) withContext(`--pid-file ${pidFile}`, () => writeAtomic(pidFile, String(launched!.pid)));
    return { child: launched.child, pid: launched.pid, master, warnings };
  } catch (e) {
    for (const fd of opened) closeSync(fd);
    if (ourConsole >= 0) closeSync(ourConsole);
    if (launched) abandon(launched);
    throw e;
  }
}

/** `exec` then EOF: execve succeeded. Anything else is the helper's error (or its death). */
function awaitExec(l: Launched): void {
  waitReadableWarm(l.sync);
  const first = receiveMessage<FromExec>(l.sync);
  if (!first) throw new RuntimeError('exec: the helper exited before starting the process');
  if (first.type === 'error') throw new RuntimeError(first.message);
  waitReadableWarm(l.sync);
  const after = receiveMessage<FromExec>(l.sync);
  if (after?.type === 'error') throw new RuntimeError(after.message);
}

function openNamespace(state: PersistedState, type: string): number {
  try {
    return open(`/proc/${state.pid}/ns/${type}`, O_RDONLY | O_CLOEXEC);
  } catch (e) {
    throw new RuntimeError(`container ${state.id}: open its ${type} namespace: ${(e as Error).message}`);
  }
}

function sameNamespace(fd: number, type: string): boolean {
  const theirs = fstatSync(fd);
  const ours = statSync(`/proc/self/ns/${type}`);
  return theirs.ino === ours.ino && theirs.dev === ours.dev;
}

/**
 * The process to run and the container's config (for seccomp), with the label that names
 * the process in errors.
 */
function resolveProcess(store: Store, state: PersistedState, req: ExecRequest): { process: Process; config: Spec | undefined; label: string } {
  let config: Spec | undefined;
  const containerConfig = (): Spec => {
    if (config) return config;
    // The copy create kept; the bundle only for containers made before there was one.
    config = store.readConfig(state.id) as Spec | null ?? undefined;
    if (config) return config;
    try {
      config = loadBundle(state.bundle).config;
    } catch (e) {
      throw new RuntimeError(`container ${state.id}: cannot read its config from bundle ${state.bundle}: ${(e as Error).message}`);
    }
    return config;
  };
  let proc: Process;
  let label: string;
  if (req.processFile) {
    label = req.processFile;
    let text: string;
    try {
      text = readFileSync(req.processFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--process ${req.processFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    proc = validateProcess(parseJson(text, label), label);
  } else {
    label = 'exec';
    proc = processFromFlags(containerConfig().process, req.args, req.flags);
    proc = validateProcess(proc, label);
  }
  checkProcess(proc, label);
  // The container's seccomp filter applies to every process in it.
  containerConfig();
  return { process: proc, config, label };
}

/**
 * runc's exec without --process: the container's own process with the command, then the
 * flags applied on top (env appended, caps added to bounding/effective/permitted, ambient too
 * when the config has inheritable ones, user and groups replaced/appended, tty as given).
 */
export function processFromFlags(base: Process | undefined, args: string[], f: ExecFlags): Process {
  const p: Process = structuredClone(base ?? ({ cwd: '/', args: [] } as Process));
  if (args[0] === '--') args = args.slice(1);
  if (!args.length) throw new UsageError('exec: a command to run is needed (or --process process.json)');
  p.args = args;
  delete p.commandLine;
  if (f.cwd) p.cwd = f.cwd;
  // Applied on execve like the config's own; checkProcess refuses them where the host has no such LSM.
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  if (f.cap?.length) {
    const c = (p.capabilities ??= {});
    for (const cap of f.cap) {
      (c.bounding ??= []).push(cap);
      (c.effective ??= []).push(cap);
      (c.permitted ??= []).push(cap);
      if (c.inheritable?.length) (c.ambient ??= []).push(cap);
    }
  }
  if (f.env?.length) p.env = [...(p.env ?? []), ...f.env];
  p.terminal = f.tty ?? false;
  delete p.consoleSize;
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(f.user);
    if (!m) throw new UsageError(`--user ${JSON.stringify(f.user)}: must be uid[:gid], numbers`);
    p.user = { ...(p.user ?? { uid: 0, gid: 0 }), uid: Number(m[1]) };
    if (m[2] !== undefined) p.user.gid = Number(m[2]);
  }
  for (const g of f.additionalGids ?? []) {
    if (!/^\d+$/.test(g)) throw new UsageError(`--additional-gids ${JSON.stringify(g)}: must be a non-negative number`);
    p.user ??= { uid: 0, gid: 0 };
    (p.user.additionalGids ??= []).push(Number(g));
  }
  return p;
}

/** The spec layer's process rules (rlimits, capabilities, LSMs...), with paths relative to the process document. */
function checkProcess(p: Process, label: string): void {
  try {
    checkConfig({ ociVersion: '1.2.0', root: { path: '/' }, process: p } as Spec, { label });
  } catch (e) {
    if (e instanceof Error) e.message = e.message.replace(`${label}: /process/`, `${label}: /`);
    throw e;
  }
}
