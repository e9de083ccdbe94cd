// The runtime as a library: the one public façade for in-process users (mydocker).
//
// Everything a container engine needs from the runtime, as function calls on one object bound
// to a state root — the same operations, checks and errors as the CLI verbs, which are thin
// wrappers over the same modules. Callers never parse the CLI's output and never reach into
// the modules below this one: what they need is added here, so that the runtime's internals
// (the init, the state store) can change without touching its users.
import { cgroupManager, ignoreKernelMemory } from '../cgroups/index.js';
import type { CgroupStats } from '../cgroups/manager.js';
import { NotExistError, StateError } from '../errors.js';
import { execInContainer, type ExecRequest, type ExecStarted } from '../process/exec.js';
import type { LinuxResources } from '../spec/generated/types.js';
import { parseSignal } from '../spec/tables.js';
import { validateResources } from '../spec/validate.js';
import { create, type Created, type CreateRequest } from './create.js';
import * as lifecycle from './lifecycle.js';
import type { Status } from './state.js';
import { DEFAULT_ROOT, Store } from './store.js';

export type { Created, CreateRequest } from './create.js';
export type { ExecFlags, ExecRequest, ExecStarted } from '../process/exec.js';
export type { ListEntry } from './lifecycle.js';
export type { Status } from './state.js';
export { DEFAULT_ROOT } from './store.js';
export { NotExistError, RuntimeError, StateError, UsageError } from '../errors.js';

/** The OCI state of a container (runtime-spec "State"), plus what `state` prints besides. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
  rootfs: string;
  created: string;
}

export class Runtime {
  readonly store: Store;

  constructor(readonly root: string = DEFAULT_ROOT) {
    this.store = new Store(root);
  }

  /** `create`: an init waiting on exec.fifo. The caller owns `launched.child` (the init is its child). */
  create(req: CreateRequest): Created {
    return create(this.store, req);
  }

  /** `start`: the user's process runs when this returns; the poststart hooks' warnings. */
  start(id: string): string[] {
    return lifecycle.start(this.store, id);
  }

  /** `state`; throws NotExistError for an unknown id. */
  state(id: string): ContainerState {
    return lifecycle.stateJson(this.store, id) as unknown as ContainerState;
  }

  /** The derived status, or null when the runtime has no such container. */
  status(id: string): Status | null {
    try {
      return lifecycle.load(this.store, id).status;
    } catch (e) {
      if (e instanceof NotExistError) return null;
      throw e;
    }
  }

  /** `kill`: a signal by number or name ("KILL", "SIGTERM", "9"), to the init or to every process. */
  kill(id: string, signal: number | string, all = false): void {
    lifecycle.kill(this.store, id, typeof signal === 'number' ? signal : parseSignal(signal), all);
  }

  /** `delete [--force]`: the poststop hooks' warnings. */
  delete(id: string, force = false): string[] {
    return lifecycle.remove(this.store, id, force);
  }

  pause(id: string): void {
    lifecycle.pause(this.store, id);
  }

  resume(id: string): void {
    lifecycle.resume(this.store, id);
  }

  /** Every container; one whose state file is broken is left out, and named through `onBroken`. */
  list(onBroken?: (id: string, error: Error) => void): lifecycle.ListEntry[] {
    return lifecycle.list(this.store, onBroken);
  }

  /** `exec`: a new process in a running container (see process/exec.ts for the request). */
  exec(req: ExecRequest): ExecStarted {
    return execInContainer(this.store, req);
  }

  /** Host pids of every process in the container's cgroup (`ps --format json`). */
  pids(id: string): number[] {
    return cgroupManager(lifecycle.load(this.store, id).state.cgroup).pids();
  }

  /** `events --stats`, once. */
  stats(id: string): CgroupStats {
    return cgroupManager(lifecycle.load(this.store, id).state.cgroup).stats();
  }

  /**
   * `update`: new limits for a live container (devices are never touched, as in runc).
   * Returns what was not applied as asked (kernel memory limits, ignored), for the caller to log.
   */
  update(id: string, resources: LinuxResources, label = 'resources'): string[] {
    const r = validateResources(structuredClone(resources), label);
    delete r.devices;
    const kmem = ignoreKernelMemory(r);
    const dir = this.store.lock(id);
    try {
      const state = dir.read();
      if (lifecycle.statusOf(this.store, state) === 'stopped') throw new StateError('container not running');
      cgroupManager(state.cgroup).update(r);
    } finally {
      dir.unlock();
    }
    return kmem ? [kmem] : [];
  }
}

/** An exec'd process in the foreground: its exit status, with our terminal or signals passed on. */
export { waitForeground } from '../process/foreground.js';
