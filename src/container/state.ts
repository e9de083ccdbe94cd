// The container state machine.
//
//   creating ──► created ──► running ◄──► paused
//       │           │           │            │
//       └───────────┴───────────┴────────────┴──► stopped ──► (deleted)
//
// Status is derived, not stored (as crun's status.c and runc's state refresh do): we persist
// the init's pid and its start time, and look at the kernel:
//   - no init pid yet, and the creating runtime still holds the lock  → creating
//   - the init is gone, a zombie, or its pid was reused (start time differs) → stopped
//   - exec.fifo still exists (start has not opened it)                 → created
//   - the cgroup is frozen                                             → paused
//   - otherwise                                                        → running
import { readFileSync } from 'node:fs';
import type { CgroupSpec } from '../cgroups/manager.js';
import { StateError } from '../errors.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** The hooks we must still run after create (poststart on start, poststop on delete). */
export interface PersistedHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** state.json: what the runtime remembers about a container between CLI invocations. */
export interface PersistedState {
  version: 1;
  id: string;
  ociVersion: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 creation time. */
  created: string;
  /** 'creating' until the init is blocked on exec.fifo, then 'created'. */
  phase: 'creating' | 'created';
  /** Host pid of the init (0 until spawned). */
  pid: number;
  /** Field 22 of /proc/<pid>/stat at spawn: tells a reused pid from ours. */
  pidStartTime: string;
  annotations?: Record<string, string>;
  cgroup: CgroupSpec;
  /** Namespaces the container has (type → path it joined, or '' for a private one). */
  namespaces: Record<string, string>;
  hooks?: { poststart?: PersistedHook[]; poststop?: PersistedHook[] };
  /** runc's "owner" field of `list`. */
  owner: string;
  /** Whether the config asked for a private PID namespace (decides `kill --all` on exit, as the shim does). */
  pidNamespace: boolean;
  /** The process runs with a terminal (for `list`/`state` only). */
  terminal?: boolean;
  /**
   * Mounts the init made in the host's mount namespace (a container without a mount namespace
   * of its own): mount id and path, so that delete unmounts exactly those.
   */
  hostMounts?: { id: number; path: string }[];
}

export interface ProcStat {
  state: string;
  startTime: string;
}

/** Parse /proc/<pid>/stat; null when the process does not exist. */
export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  return { state: rest[0] ?? '?', startTime: rest[19] ?? '' };
}

/** Is `pid` still our init (alive, not a zombie, same start time)? */
export function initAlive(st: Pick<PersistedState, 'pid' | 'pidStartTime'>): boolean {
  const ps = readProcStat(st.pid);
  return ps !== null && ps.state !== 'Z' && ps.state !== 'X' && ps.startTime === st.pidStartTime;
}

export interface StatusProbe {
  /** Does the creating runtime still hold the container's lock? */
  creatorAlive(): boolean;
  fifoExists(): boolean;
  frozen(): boolean;
}

export function deriveStatus(st: PersistedState, probe: StatusProbe): Status {
  if (st.phase === 'creating') {
    if (st.pid > 0 && !initAlive(st)) return 'stopped';
    return probe.creatorAlive() ? 'creating' : 'stopped';
  }
  if (!initAlive(st)) return 'stopped';
  if (probe.fifoExists()) return 'created';
  if (probe.frozen()) return 'paused';
  return 'running';
}

/** Which statuses each verb accepts (runc's state_linux.go, written out). */
const ALLOWED: Record<string, readonly Status[]> = {
  start: ['created'],
  pause: ['running'],
  resume: ['paused'],
  exec: ['created', 'running'],
  kill: ['created', 'running', 'paused'],
  update: ['created', 'running', 'paused'],
  delete: ['stopped'],
  ps: ['created', 'running', 'paused', 'stopped'],
  events: ['created', 'running', 'paused'],
};

/** Refuse a transition with a message naming the container, the verb and the status. */
export function assertTransition(id: string, verb: string, status: Status): void {
  const ok = ALLOWED[verb];
  if (!ok || ok.includes(status)) return;
  if (verb === 'delete') throw new StateError(`cannot delete container ${id} that is not stopped: ${status}`);
  if (verb === 'kill' || verb === 'pause' || verb === 'exec' || verb === 'events' || verb === 'update') {
    if (status === 'stopped') throw new StateError(`container ${id}: container not running`);
    if (verb === 'exec' && status === 'paused') throw new StateError(`container ${id}: cannot exec in a paused container (resume it first)`);
  }
  if (verb === 'start' && status !== 'created') {
    throw new StateError(`cannot start container ${id}: it is ${status}, not created`);
  }
  throw new StateError(`cannot ${verb} container ${id}: it is ${status}`);
}

/** Wait (briefly) for a killed process to disappear or turn into a zombie. */
export function waitGone(pid: number, timeoutMs = 5000): boolean {
  const deadline = Date.now() + timeoutMs;
  const sab = new Int32Array(new SharedArrayBuffer(4));
  for (let delay = 1; Date.now() < deadline; delay = Math.min(delay * 2, 20)) {
    const ps = readProcStat(pid);
    if (!ps || ps.state === 'Z' || ps.state === 'X') return true;
    Atomics.wait(sab, 0, 0, delay);
  }
  return false;
}

/** The OCI state object (runtime.md). */
export function ociState(st: PersistedState, status: string): Record<string, unknown> {
  return {
    ociVersion: st.ociVersion,
    id: st.id,
    status,
    pid: status === 'stopped' ? 0 : st.pid,
    bundle: st.bundle,
    annotations: st.annotations ?? {},
  };
}
