// Spawning the native init (native/init.c): the launcher of a container's process.
//
// Node must never fork itself, so the init is a fresh process from child_process.spawn. It is
// the only thing spawned; everything else happens inside it, driven by the plan (steps.ts):
// it creates or joins the namespaces and FORKs (clone(CLONE_PARENT)) the container's process,
// which is therefore OUR child too — so that `run` can wait for it and, once we exit, the
// kernel hands it to our parent's subreaper (containerd's shim, conmon), as runc's init is.
//
// The binary runs from a sealed memfd copy of dist/mydocker-runc-init (CVE-2019-5736): while
// it sits inside a container (a created container's init waits there until `start`), a
// process of the container may open /proc/<pid>/exe; what it gets is a private, write-sealed
// copy, never the host's file.
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../errors.js';
import { kill, memfdSealed, waitpid, waitpidAsync } from '../kernel/process.js';
import { socketpair, SOCK_CLOEXEC, SOCK_STREAM } from '../kernel/files.js';
import { tracing } from '../trace.js';

export interface LaunchOptions {
  /** The container's stdio: fds 0, 1, 2 of the init (normally ours, as containerd wires them). */
  stdio: [number, number, number];
  /** fds 3 .. 3+n-1 of ours pass to the init at the same numbers. */
  preserveFds: number;
  /** argv[0] of the launcher (its /proc/<pid>/cmdline). */
  name?: string;
}

export interface Launched {
  /** The launcher (the process spawned); it exits once it has forked the container's process. */
  child: ChildProcess;
  /** The container's process once the init reported it (the pid file's pid), else the launcher's. */
  pid: number;
  /** The launcher's pid. */
  launcherPid: number;
  /** Our end of the sync socket. */
  sync: number;
  /**
   * The exit status of the container's process (128+signal when killed), for a caller that is
   * still its parent (the process that launched it). Resolves -1 if it is not our child.
   */
  wait(): Promise<number>;
}

// node:child_process (~4 ms to load) on first use: the CLI imports this module early for
// every verb (prelaunch.ts), and only create, run and exec spawn.
const require = createRequire(import.meta.url);
let childProcessModule: typeof import('node:child_process') | undefined;
const childProcess = () => (childProcessModule ??= require('node:child_process') as typeof import('node:child_process'));

/** dist/mydocker-runc-init, found from wherever this module was loaded (the bundle, or build/ in tests). */
export function initBinaryPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [join(dir, 'mydocker-runc-init'), join(dir, 'dist', 'mydocker-runc-init')]) {
      if (existsSync(candidate) && !candidate.includes('/build/')) return candidate;
    }
    dir = dirname(dir);
  }
  throw new RuntimeError('cannot find dist/mydocker-runc-init next to the runtime (run `make build`)');
}

let sealed: number | undefined;

/** The init binary in a sealed memfd (made once per process, reused for every launch). */
function sealedInit(): number {
  if (sealed === undefined) {
    const path = initBinaryPath();
    let image: Buffer;
    try {
      image = readFileSync(path);
    } catch (e) {
      throw new RuntimeError(`read the native init ${path}: ${(e as Error).message}`);
    }
    sealed = memfdSealed('mydocker-runc-init', image);
  }
  return sealed;
}

export function launchInit(opts: LaunchOptions): Launched {
  const exe = sealedInit();
  const [ours, theirs] = socketpair(SOCK_STREAM | SOCK_CLOEXEC);
  let child: ChildProcess;
  try {
    const preserved = Array.from({ length: opts.preserveFds }, (_, i) => 3 + i);
    const syncFd = 3 + opts.preserveFds;
    const exeFd = syncFd + 1;
    child = childProcess().spawn(`/proc/self/fd/${exeFd}`, [String(syncFd), String(exeFd)], {
      stdio: [...opts.stdio, ...preserved, theirs, exe],
      detached: true, // its own process group: a terminal's signals are not the launcher's
      // Nothing of ours, but the trace switch (it only adds lines to stderr).
      env: tracing ? { MYDOCKER_RUNC_TRACE: '1' } : {},
      argv0: opts.name ?? 'mydocker-runc-init',
    });
  } catch (e) {
    closeSync(ours);
    throw e;
  } finally {
    closeSync(theirs);
  }
  if (child.pid === undefined) {
    closeSync(ours);
    throw new RuntimeError('spawn the container init (dist/mydocker-runc-init): failed');
  }
  const launched: Launched = {
    child,
    pid: child.pid,
    launcherPid: child.pid,
    sync: ours,
    wait: () => (launched.pid === launched.launcherPid ? Promise.resolve(-1) : waitpidAsync(launched.pid)),
  };
  return launched;
}

/**
 * Undo a launch that will not be used (a failed create or exec, a prelaunched init that does
 * not fit): kill the container's process and the launcher, close our end of the socket, and
 * reap both — nothing of ours may outlive the failure, and until it is reaped a zombie keeps
 * its cgroup busy. libuv never sees the exits we collected, so its handle must not keep the
 * event loop alive.
 */
export function abandon(l: Launched): void {
  l.child.unref();
  for (const pid of new Set([l.pid, l.launcherPid])) {
    try {
      kill(pid, 9);
    } catch {
      /* gone already */
    }
  }
  try {
    closeSync(l.sync);
  } catch {
    /* closed already */
  }
  for (const pid of new Set([l.pid, l.launcherPid])) waitpid(pid);
}
