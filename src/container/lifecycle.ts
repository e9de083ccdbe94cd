// The lifecycle verbs other than create: start, state, kill, delete, list, pause, resume.
// Each rebuilds what it needs from state.json and the kernel; nothing stays resident.
import { closeSync, existsSync, readSync, rmSync } from 'node:fs';
import { cgroupManager } from '../cgroups/index.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { NotExistError, RuntimeError, StateError, withContext } from '../errors.js';
import { runHooksWarn } from '../hooks/run.js';
import { KernelError } from '../kernel/ffi.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY, open } from '../kernel/files.js';
import { kill as killPid, pidfdOpen, pidfdSendSignal, POLLIN, pollOne } from '../kernel/process.js';
import { assertTransition, deriveStatus, initAlive, ociState, type PersistedState, type Status, waitGone } from './state.js';
import { unmountRecorded } from './host-mounts.js';
import { removeBroken } from './recover.js';
import { BrokenStateError, Store, type LockedDir } from './store.js';

export interface Container {
  state: PersistedState;
  status: Status;
}

/** Read a container and derive its status (no lock: `state` and `list` never wait). */
export function load(store: Store, id: string): Container {
  const state = store.read(id);
  return { state, status: statusOf(store, state) };
}

export function statusOf(store: Store, state: PersistedState): Status {
  let cg: CgroupManager | undefined;
  return deriveStatus(state, {
    creatorAlive: () => {
      const l = store.tryLock(state.id);
      if (l === null) return true;
      if (l !== 'gone') l.unlock();
      return false;
    },
    fifoExists: () => existsSync(store.fifoPath(state.id)),
    frozen: () => {
      try {
        cg ??= cgroupManager(state.cgroup);
        return cg.isFrozen();
      } catch {
        return false;
      }
    },
  });
}

/** The OCI state document for `state`. */
export function stateJson(store: Store, id: string): Record<string, unknown> {
  const c = load(store, id);
  return { ...ociState(c.state, c.status), rootfs: c.state.rootfs, created: c.state.created, owner: c.state.owner };
}

/** `start`: release the init from exec.fifo, then run poststart hooks. */
export function start(store: Store, id: string): string[] {
  const dir = store.lock(id);
  try {
    const state = dir.read();
    const status = statusOf(store, state);
    if (status === 'stopped') throw new StateError(`cannot start a container that has stopped`);
    if (status === 'running' || status === 'paused') throw new StateError(`cannot start an already running container`);
    assertTransition(id, 'start', status);
    releaseInit(store, state);
    return runHooksWarn('poststart', state.hooks?.poststart, ociState(state, 'running'));
  } finally {
    dir.unlock();
  }
}

/**
 * Open exec.fifo for reading: the init's blocking open(O_WRONLY) returns, it writes "0", runs
 * startContainer hooks and execs; its end of the FIFO is close-on-exec, so EOF here means the
 * user's process is running (poststart hooks must run after that). Anything else the init
 * writes is the reason it could not exec. Non-blocking, so an init that died cannot hang us.
 */
function releaseInit(store: Store, state: PersistedState): void {
  const path = store.fifoPath(state.id);
  let fd: number;
  try {
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  } catch (e) {
    if (e instanceof KernelError && e.code === 'ENOENT') throw new StateError(`cannot start an already running container`);
    throw e;
  }
  let received = '';
  let dead = false;
  // Test knob (one env lookup): stall once between a read that found nothing and the liveness
  // check, to make the race below certain instead of rare.
  let lag = Number(process.env.MYDOCKER_RUNC_TEST_START_LAG_MS ?? 0);
  try {
    const buf = Buffer.alloc(4096);
    for (let delay = 1; ; delay = Math.min(delay * 2, 10)) {
      let n = -1;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (n > 0) {
        received += buf.toString('utf8', 0, n);
        delay = 1;
        continue;
      }
      // n === 0 is EOF — but before the init's open() returns there is no writer yet either.
      if (n === 0 && received.length > 0) break;
      if (dead) {
        if (received.length > 0) break;
        throw new RuntimeError(`container ${state.id}: the init exited before start`);
      }
      if (lag > 0) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, lag);
        lag = 0;
      }
      if (!initAlive(state)) {
        // Between our read and this check the init may have written "0", exec'd a short
        // process (`echo hi`) and that may have exited already: what it wrote is still in the
        // FIFO. Read once more before calling it dead (seen on a loaded machine).
        dead = true;
        continue;
      }
      // Sleep until the init writes or closes its end (poll wakes at once), at most `delay` ms
      // before checking again that it lives: the caller learns about the execve without lag.
      try {
        pollOne(fd, POLLIN, delay);
      } catch (e) {
        if (!(e instanceof KernelError && e.code === 'EINTR')) throw e;
      }
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  const failure = received.slice(1).trim();
  if (failure) throw new RuntimeError(`container ${state.id} failed to start: ${failure}`);
}

/**
 * `kill`: one signal to the init, or to every process of the container's cgroup with `all`,
 * with runc 1.1's semantics in every state (compared side by side in lifecycle.test.ts):
 *   - `--all` works in every state, stopped included: a container whose init has exited may
 *     still have processes in its cgroup (a shared PID namespace, a child that outlived the
 *     init), and containerd's shim clears them with `kill --all <id> KILL` on every exit. The
 *     cgroup is frozen around the signals and thawed afterwards, whatever it was before, so
 *     `kill --all` leaves a paused container running (runc's signalAllProcesses). A stopped
 *     container whose cgroup is gone has nothing to signal: success.
 *   - without `--all`, the init only, and only while it lives ("container not running"
 *     otherwise); SIGKILL to a paused container thaws it, or a v1-frozen init never dies.
 */
export function kill(store: Store, id: string, signal: number, all = false): void {
  const c = load(store, id);
  if (all) {
    const cg = cgroupManager(c.state.cgroup);
    cg.signalAll(signal);
    if (cg.isFrozen()) cg.thaw();
    return;
  }
  if (c.status === 'stopped') throw new StateError('container not running');
  if (c.status === 'creating' && !(c.state.pid > 0 && initAlive(c.state))) throw new StateError('container not running');
  signalInit(c.state, signal);
  if (c.status === 'paused' && signal === SIGKILL) cgroupManager(c.state.cgroup).thaw();
}

const SIGKILL = 9;

/** Signal the init through a pidfd, after checking its start time: a reused pid is never hit. */
function signalInit(state: PersistedState, signal: number): void {
  let pidfd: number;
  try {
    pidfd = pidfdOpen(state.pid);
  } catch (e) {
    if (e instanceof KernelError && e.code === 'ESRCH') throw new StateError('container not running');
    throw e;
  }
  try {
    if (!initAlive(state)) throw new StateError('container not running');
    withContext(`signal ${signal} to the init (pid ${state.pid})`, () => pidfdSendSignal(pidfd, signal));
  } finally {
    closeSync(pidfd);
  }
}

/**
 * `delete`: remove a stopped container (state, cgroup) and run its poststop hooks.
 * With `force`, a live one is killed first, and a missing one is not an error (containerd's
 * shim calls `delete --force` after every task, even after a failed create).
 */
export function remove(store: Store, id: string, force = false): string[] {
  let dir: LockedDir;
  try {
    dir = store.lock(id);
  } catch (e) {
    if (e instanceof NotExistError && force) return [];
    throw e;
  }
  try {
    let state: PersistedState;
    try {
      state = dir.read();
    } catch (e) {
      // A directory without state.json: a create that died before writing it.
      if (e instanceof NotExistError) {
        dir.remove();
        if (force) return [];
        throw e;
      }
      // A broken state.json: remove what can still be found (recover.ts).
      if (e instanceof BrokenStateError && force) {
        removeBroken(store, dir, id);
        return [];
      }
      throw e;
    }
    const status = statusOf(store, state);
    if (status !== 'stopped' && status !== 'creating') {
      if (!force) assertTransition(id, 'delete', status);
    }
    const cg = cgroupManager(state.cgroup);
    if (status !== 'stopped' || (state.pid > 0 && initAlive(state))) {
      killEverything(state, cg);
    }
    // An init without its own PID namespace leaves its children behind when it exits; so does
    // a forced delete. Nothing of the container may outlive it.
    try {
      if (cg.pids().length) killEverything(state, cg);
    } catch {
      /* no cgroup left */
    }
    // A container without a mount namespace mounted in the host's: undo exactly that.
    const unmountProblems = unmountRecorded(state.hostMounts);
    const warnings = [...unmountProblems, ...runHooksWarn('poststop', state.hooks?.poststop, ociState(state, 'stopped'))];
    try {
      cg.destroy();
    } catch (e) {
      throw new RuntimeError(`delete ${id}: remove cgroup: ${(e as Error).message}`);
    }
    dir.remove();
    return warnings;
  } finally {
    dir.unlock();
  }
}

export function killEverything(state: PersistedState, cg: CgroupManager): void {
  try {
    cg.signalAll(9);
  } catch {
    /* cgroup may be gone */
  }
  if (state.pid > 0 && initAlive(state)) {
    try {
      killPid(state.pid, 9);
    } catch {
      /* gone */
    }
  }
  try {
    cg.thaw();
  } catch {
    /* not frozen, or no freezer */
  }
  if (state.pid > 0 && !waitGone(state.pid, 10_000)) {
    throw new RuntimeError(`container ${state.id}: init ${state.pid} did not die after SIGKILL`);
  }
  const deadline = Date.now() + 10_000;
  const sab = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    let left: number[];
    try {
      left = cg.pids();
    } catch {
      return;
    }
    if (!left.length) return;
    try {
      cg.signalAll(9);
    } catch {
      /* racing exits */
    }
    Atomics.wait(sab, 0, 0, 5);
  }
  throw new RuntimeError(`container ${state.id}: processes left in its cgroup after SIGKILL`);
}

export interface ListEntry {
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  created: string;
  owner: string;
}

/**
 * Every container, skipping one being created (no state.json yet) or deleted under us; a
 * container whose state file is broken is skipped too, and named through `onBroken` (the CLI
 * prints it on stderr, as runc's list does for a container it cannot load).
 */
export function list(store: Store, onBroken?: (id: string, error: Error) => void): ListEntry[] {
  const out: ListEntry[] = [];
  for (const id of store.ids()) {
    let c: Container;
    try {
      c = load(store, id);
    } catch (e) {
      if (e instanceof BrokenStateError) onBroken?.(id, e);
      else if (!(e instanceof NotExistError)) onBroken?.(id, e instanceof Error ? e : new RuntimeError(String(e)));
      continue;
    }
    out.push({
      id,
      pid: c.status === 'stopped' ? 0 : c.state.pid,
      status: c.status,
      bundle: c.state.bundle,
      created: c.state.created,
      owner: c.state.owner,
    });
  }
  return out;
}

/** `pause`: freeze every process of a running container. */
export function pause(store: Store, id: string): void {
  const dir = store.lock(id);
  try {
    const state = dir.read();
    assertTransition(id, 'pause', statusOf(store, state));
    cgroupManager(state.cgroup).freeze();
  } finally {
    dir.unlock();
  }
}

/** `resume`: thaw a paused container. */
export function resume(store: Store, id: string): void {
  const dir = store.lock(id);
  try {
    const state = dir.read();
    const status = statusOf(store, state);
    if (status !== 'paused') throw new StateError(`container ${id} is not paused`);
    cgroupManager(state.cgroup).thaw();
  } finally {
    dir.unlock();
  }
}
