// Spawning the init: the namespace recipe on the runtime's side.
//
// Node must never fork itself (the child would return into V8), so the init is a fresh
// `node dist/init.js` from child_process.spawn. What the child must be born with is set on
// our main thread just before the spawn and undone right after:
//   - a new (or joined) PID namespace: unshare/setns(CLONE_NEWPID) only moves where the next
//     child is born, so the init is PID 1 there and we stay where we are;
//   - a throwaway "launch" mount namespace in which the node binary is a read-only bind
//     mount: the init's /proc/<pid>/exe then names a read-only mount, so even a container
//     process that grabs it can never open the host's node for writing (CVE-2019-5736). The
//     init returns to the host's mount namespace (fd passed along) before making its own.
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../errors.js';
import { kill, waitpid } from '../kernel/process.js';
import { socketpair, SOCK_CLOEXEC, SOCK_SEQPACKET } from '../kernel/files.js';
import { mount, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SLAVE, MS_NOSUID, MS_NODEV } from '../kernel/mount.js';
import { CLONE_NEWNS, CLONE_NEWPID, setns, unshare } from '../kernel/ns.js';
import { connectConsoleSocket } from './console.js';
import { tracing } from '../trace.js';

export interface LaunchOptions {
  /** New PID namespace ({}), join one ({path}), or stay in ours (null). */
  pidNamespace: { path?: string } | null;
  /** The container's stdio: fds 0, 1, 2 of the init (normally ours, as containerd wires them). */
  stdio: [number, number, number];
  /** fds 3 .. 3+n-1 of ours pass to the init at the same numbers. */
  preserveFds: number;
  /**
   * process.terminal: connect to this console socket before anything is spawned (a missing
   * socket is one clear line) and pass the connected socket to the init; its number is the
   * init's last argument.
   */
  consoleSocket?: string;
  /** Another program than dist/init.js (the exec helper, dist/exec-init.js). */
  script?: string;
  /** More fds for the child; they arrive after the sync socket and the mount-ns fd (see Launched.extraFds). */
  extraFds?: number[];
  /** argv[0] of the child (its /proc/<pid>/cmdline). */
  name?: string;
}

export interface Launched {
  child: ChildProcess;
  pid: number;
  /** Our end of the sync socket. */
  sync: number;
  /** The numbers LaunchOptions.extraFds have in the child, in the same order. */
  extraFds: number[];
}

const scripts = new Map<string, string>();

// node:child_process (~4 ms to load) on first use: the CLI imports this module early for
// every verb (prelaunch.ts), and only create, run and exec spawn.
const require = createRequire(import.meta.url);
let childProcessModule: typeof import('node:child_process') | undefined;
const childProcess = () => (childProcessModule ??= require('node:child_process') as typeof import('node:child_process'));

/** dist/init.js, found from wherever this module was loaded (the bundle, or build/ in tests). */
export function initScriptPath(): string {
  return distScriptPath('init.js');
}

/** A program of dist/ (init.js, exec-init.js), found like initScriptPath. */
export function distScriptPath(file: string): string {
  const known = scripts.get(file);
  if (known) return known;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [join(dir, file), join(dir, 'dist', file)]) {
      if (existsSync(candidate) && !candidate.includes('/build/')) {
        scripts.set(file, candidate);
        return candidate;
      }
    }
    dir = dirname(dir);
  }
  throw new RuntimeError(`cannot find dist/${file} next to the runtime (run \`make build\`)`);
}

export function launchInit(opts: LaunchOptions): Launched {
  const node = realpathSync(process.execPath);
  const script = opts.script ?? initScriptPath();
  const consoleFd = opts.consoleSocket ? connectConsoleSocket(opts.consoleSocket) : -1;
  const extra = [...(opts.extraFds ?? []), ...(consoleFd >= 0 ? [consoleFd] : [])];
  let ours: number;
  let theirs: number;
  try {
    [ours, theirs] = socketpair(SOCK_SEQPACKET | SOCK_CLOEXEC);
  } catch (e) {
    if (consoleFd >= 0) closeSync(consoleFd);
    throw e;
  }
  const hostMnt = openSync('/proc/thread-self/ns/mnt', 'r');
  const ownPid = openSync('/proc/thread-self/ns/pid', 'r');
  let child: ChildProcess | undefined;
  try {
    // The launch mount namespace (unshare(CLONE_NEWNS) also gives this thread its own fs_struct).
    unshare(CLONE_NEWNS, 'launch mount namespace');
    try {
      mount(null, '/', null, MS_REC | MS_SLAVE);
      mount(node, node, null, MS_BIND);
      mount(null, node, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV);
      if (opts.pidNamespace?.path) {
        const fd = openSync(opts.pidNamespace.path, 'r');
        try {
          setns(fd, CLONE_NEWPID, `pid namespace ${opts.pidNamespace.path}`);
        } finally {
          closeSync(fd);
        }
      } else if (opts.pidNamespace) unshare(CLONE_NEWPID, 'pid namespace');

      const preserved = Array.from({ length: opts.preserveFds }, (_, i) => 3 + i);
      const syncFd = 3 + opts.preserveFds;
      const args = [script, String(syncFd), String(syncFd + 1)];
      if (consoleFd >= 0) args.push(String(syncFd + 2 + extra.length - 1));
      child = childProcess().spawn(node, args, {
        stdio: [...opts.stdio, ...preserved, theirs, hostMnt, ...extra],
        detached: true, // setsid: the init leads its own session, as runc's does
        // Nothing of ours, but the trace switch (it only adds lines to stderr).
        env: tracing ? { MYDOCKER_RUNC_TRACE: process.env.MYDOCKER_RUNC_TRACE ?? '1' } : {},
        argv0: opts.name ?? 'mydocker-runc-init',
      });
    } finally {
      if (opts.pidNamespace) setns(ownPid, CLONE_NEWPID, 'back to the runtime pid namespace');
      setns(hostMnt, CLONE_NEWNS, 'back to the host mount namespace');
    }
  } catch (e) {
    closeSync(ours);
    throw e;
  } finally {
    closeSync(theirs);
    closeSync(hostMnt);
    closeSync(ownPid);
    if (consoleFd >= 0) closeSync(consoleFd);
  }
  if (child.pid === undefined) {
    closeSync(ours);
    throw new RuntimeError(`spawn the container init (${node}): failed`);
  }
  const firstExtra = 3 + opts.preserveFds + 2;
  return { child, pid: child.pid, sync: ours, extraFds: (opts.extraFds ?? []).map((_, i) => firstExtra + i) };
}

/**
 * Undo a launch that will not be used (a failed create or exec, a prelaunched init that does
 * not fit): kill the child, close our end of its socket, and reap it — nothing of ours may
 * outlive the failure, and until it is reaped a zombie keeps its cgroup busy. libuv never
 * sees the exit we collected, so its handle must not keep the event loop alive.
 */
export function abandon(l: Launched): void {
  l.child.unref();
  try {
    kill(l.pid, 9);
  } catch {
    /* gone already */
  }
  try {
    closeSync(l.sync);
  } catch {
    /* closed already */
  }
  waitpid(l.pid);
}
