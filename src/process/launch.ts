// Spawning the native init (native/init.c): the launcher of a container's process.
//
// Node must never fork itself; the init is started with posix_spawn(3) (glibc's runs only C
// code in the child). It is the only thing spawned; everything else happens inside it, driven
// by the plan (steps.ts): it creates or joins the namespaces and FORKs (clone(CLONE_PARENT))
// the container's process, which is therefore OUR child too — so that `run` can wait for it
// and, once we exit, the kernel hands it to our parent's subreaper (containerd's shim,
// conmon), as runc's init is. The launcher exits at once; we reap it.
//
// The binary runs from a sealed memfd copy of dist/mydocker-runc-init (CVE-2019-5736): while
// it sits inside a container (a created container's init waits there until `start`), a
// process of the container may open /proc/<pid>/exe; what it gets is a private, write-sealed
// copy, never the host's file.
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../errors.js';
import { kill, memfdSealed, spawnProcess, waitpid, waitpidAsync } from '../kernel/process.js';
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

/**
 * The container's process (or exec's new process), as the caller that launched it sees it:
 * our child — the init forks it with CLONE_PARENT — until we exit. `pid` is the launcher's
 * until the init has reported the process's.
 */
export interface ProcessHandle {
  readonly pid: number;
  /** Its exit status (128+signal when killed), while we are its parent; -1 if it is not our child. */
  wait(): Promise<number>;
  /** Send it a signal (false when it is gone). */
  kill(signal?: NodeJS.Signals | number): boolean;
  /** No-ops, kept for callers written for a ChildProcess: no event-loop handle holds it until wait(). */
  ref(): void;
  unref(): void;
}

export interface Launched {
  /** The container's process (see ProcessHandle); the launcher itself is reaped by the runtime. */
  child: ProcessHandle;
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

const found = new Map<string, string>();

/** A file of dist/ (mydocker-runc-init, mydocker-runc.js, ...), found from wherever this module was loaded (the bundle, or build/ in tests). */
export function distScriptPath(file: string): string {
  const known = found.get(file);
  if (known) return known;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [join(dir, file), join(dir, 'dist', file)]) {
      if (existsSync(candidate) && !candidate.includes('/build/')) {
        found.set(file, candidate);
        return candidate;
      }
    }
    dir = dirname(dir);
  }
  throw new RuntimeError(`cannot find dist/${file} next to the runtime (run \`make build\`)`);
}

/** dist/mydocker-runc-init. */
export function initBinaryPath(): string {
  return distScriptPath('mydocker-runc-init');
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
  let pid: number;
  try {
    const preserved = Array.from({ length: opts.preserveFds }, (_, i) => 3 + i);
    const syncFd = 3 + opts.preserveFds;
    const exeFd = syncFd + 1;
    pid = spawnProcess(`/proc/self/fd/${exeFd}`, [opts.name ?? 'mydocker-runc-init', String(syncFd), String(exeFd)], {
      fds: [...opts.stdio.map((fd, i): [number, number] => [i, fd]), ...preserved.map((fd): [number, number] => [fd, fd]), [syncFd, theirs], [exeFd, exe]],
      // Nothing of ours, but the trace switch (lines on stderr, or appended to the file it names).
      env: tracing ? [`MYDOCKER_RUNC_TRACE=${process.env.MYDOCKER_RUNC_TRACE ?? '1'}`] : [],
      setsid: true, // its own session: a terminal's signals are not the launcher's
    });
  } catch (e) {
    closeSync(ours);
    throw e;
  } finally {
    closeSync(theirs);
  }
  const wait = () => (launched.pid === launched.launcherPid ? Promise.resolve(-1) : waitpidAsync(launched.pid));
  const launched: Launched = {
    child: {
      get pid() {
        return launched.pid;
      },
      wait,
      kill(signal: NodeJS.Signals | number = 'SIGTERM') {
        try {
          process.kill(launched.pid, signal);
          return true;
        } catch {
          return false;
        }
      },
      ref() {},
      unref() {},
    },
    pid,
    launcherPid: pid,
    sync: ours,
    wait,
  };
  return launched;
}

/** Reap the launcher once it has forked the container's process (it exits right after). */
export function reapLauncher(l: Launched): void {
  waitpid(l.launcherPid);
}

/**
 * Undo a launch that will not be used (a failed create or exec): kill the container's process
 * and the launcher, close our end of the socket, and reap both — nothing of ours may outlive
 * the failure, and until it is reaped a zombie keeps its cgroup busy.
 */
export function abandon(l: Launched): void {
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
