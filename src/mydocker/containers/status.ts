// A container's true state, derived each time it is asked — never trusted from the record
// alone (the book's `ps` showed "running" forever for a container that had exited).
//
//   runtime says running / paused      → running / paused
//   runtime says created               → created (a start that has not happened or failed)
//   runtime stopped or gone:
//     the monitor's exit file exists   → exited, with its code and time — even if nobody has
//                                        cleaned up yet (a detached container that exited)
//     the record says exited/created   → that
//     else (the host rebooted, /run is gone, the monitor was killed) → exited (255), as docker
//   restarting (restart.ts): a restart is pending, or the exit is not cleaned up yet and the
//     policy will want one — but only while a process that will do it lives: the waiter the
//     record names, or before one has claimed it the run's conmon (which runs the exit command
//     that becomes the waiter). Otherwise plain exited: nothing is going to restart it.
import type { Engine } from '../engine.js';
import { ZERO_TIME, type ContainerRecord } from './record.js';
import { monitorPid, readExitFile } from './monitor.js';
import { isMonitor, isWaiter, restartDelay } from './restart.js';
import { join } from 'node:path';

export type DockerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface LiveState {
  Status: DockerStatus;
  Running: boolean;
  Paused: boolean;
  Pid: number;
  ExitCode: number;
  StartedAt: string;
  FinishedAt: string;
  Error: string;
  OOMKilled: boolean;
}

/**
 * Where conmon writes the container's exit status (and cleanup leaves its CLEANED marker):
 * under the run tree, as podman's exits/. Not beside the record: a container that fills the
 * data root's disk (its writable layer lives there) would make conmon write an empty file, and
 * its real exit code would be lost to a "255".
 */
export function exitDir(engine: Engine, id: string): string {
  return join(engine.paths.run, 'exits', id);
}

export function liveState(engine: Engine, rec: ContainerRecord): LiveState {
  const s = rec.State;
  const base: LiveState = {
    Status: 'exited',
    Running: false,
    Paused: false,
    Pid: 0,
    ExitCode: s.ExitCode,
    StartedAt: s.StartedAt,
    FinishedAt: s.FinishedAt,
    Error: s.Error,
    OOMKilled: s.OOMKilled,
  };
  if (s.Status === 'removing') return { ...base, Status: 'removing' };
  let rt: ReturnType<Engine['runtime']['status']> = null;
  try {
    rt = engine.runtime.status(rec.Id);
  } catch {
    rt = null; // a broken runtime state file: treat as gone
  }
  if (rt === 'running' || rt === 'paused') {
    let pid = s.Pid;
    try {
      pid = engine.runtime.state(rec.Id).pid;
    } catch {
      /* keep the recorded pid */
    }
    return { ...base, Status: rt, Running: true, Paused: rt === 'paused', Pid: pid, ExitCode: 0, FinishedAt: s.FinishedAt };
  }
  // Between two runs, including while the waiter is starting the next one (its record already
  // says running, its runtime state is being created).
  if (rec.PendingRestart && restartPending(engine, rec)) return { ...base, Status: 'restarting', ExitCode: rec.PendingRestart.ExitCode };
  if (rt === 'created' || rt === 'creating') return { ...base, Status: 'created', ExitCode: s.ExitCode };
  if (s.Status === 'created') return { ...base, Status: 'created' };
  if (s.Status === 'running') {
    const exit = s.Monitored ? readExitFile(exitDir(engine, rec.Id), rec.Id) : null;
    if (exit) {
      const at = exit.at.toISOString();
      // Exited, not yet cleaned up: if its policy will restart it (the decision is made by the
      // cleanup that conmon, still alive, is about to run), it is already restarting.
      const ran = exit.at.getTime() - Date.parse(s.StartedAt);
      if (restartDelay(rec, exit.code, Number.isFinite(ran) ? ran : 0) !== null && monitorAlive(engine, rec)) {
        return { ...base, Status: 'restarting', ExitCode: exit.code, FinishedAt: at };
      }
      return { ...base, Status: 'exited', ExitCode: exit.code, FinishedAt: at };
    }
    // Its process is gone and conmon, alive, is about to write the exit: with a policy that
    // restarts whatever the code (always, unless-stopped), it is restarting already.
    if (s.Monitored && restartDelay(rec, 0, 0) !== null && monitorAlive(engine, rec)) return { ...base, Status: 'restarting' };
    // When it ended is unknown too: say it ended no later than it started rather than in year 1.
    return { ...base, Status: 'exited', ExitCode: 255, FinishedAt: s.FinishedAt === ZERO_TIME ? s.StartedAt : s.FinishedAt };
  }
  return base;
}

/** Whether a pending restart will really happen: someone alive is going to do it. */
function restartPending(engine: Engine, rec: ContainerRecord): boolean {
  const p = rec.PendingRestart;
  if (!p) return false;
  if (p.Waiter) return isWaiter(p.Waiter, rec.Id);
  return monitorAlive(engine, rec);
}

function monitorAlive(engine: Engine, rec: ContainerRecord): boolean {
  return isMonitor(monitorPid(join(engine.containers.path(rec.Id), 'conmon.pid')), rec.Id);
}
