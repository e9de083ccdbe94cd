// Restart policies, docker's (`--restart no|always|unless-stopped|on-failure[:N]`), without a
// daemon. docker keeps a restart manager in dockerd; mydocker has no process that outlives a
// container except its conmon, so the policy is applied where conmon hands over: its exit
// command (`mydocker container cleanup ID`). Whoever records a run's exit (that command, or a
// foreground client, or stop) decides once, under the container's lock, whether a restart is
// due and writes the decision into the record (PendingRestart). The exit command then becomes
// the "waiter": it sleeps docker's back-off without the lock, and restarts the container with
// a new conmon (whose own exit command continues the cycle) if the decision still stands.
//
// The record is never trusted to say "restarting" on its own: only while the waiter it names is
// alive (a waiter killed with -9 leaves a plain Exited container), as status.ts derives every
// other state from live processes.
//
// This module is the policy and the record's bookkeeping; lifecycle.ts does the waiting and
// the start. No daemon means nothing restarts after a reboot (podman's rule as well).
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { ContainerRecord, HostConfig, RestartPolicy } from './record.js';

export const NO_RESTART: RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };

const POLICIES = ['no', 'always', 'unless-stopped', 'on-failure'] as const;

/** docker's back-off: 100 ms before the first restart, doubling, at most a minute. */
export const FIRST_DELAY_MS = 100;
export const MAX_DELAY_MS = 60_000;
/** A run that lasted this long resets the back-off (docker: "executionDuration >= 10s"). */
export const RESET_AFTER_MS = 10_000;

/**
 * `--restart VALUE` → HostConfig.RestartPolicy, with docker's rules: a count only with
 * on-failure (where 0 means unlimited), never negative. Errors name the flag (exit 125).
 */
export function parseRestartPolicy(value: string): RestartPolicy {
  const bad = (why: string) => new InputError(`--restart ${value}: ${why}`);
  if (value === '') return { ...NO_RESTART };
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const count = colon < 0 ? undefined : value.slice(colon + 1);
  if (!name) throw bad('invalid restart policy format: no policy provided before colon');
  if (!(POLICIES as readonly string[]).includes(name)) {
    throw bad(`invalid restart policy '${name}' (use no, always, unless-stopped or on-failure[:max-retries])`);
  }
  let max = 0;
  if (count !== undefined && count !== '') {
    if (!/^[-+]?\d+$/.test(count) || !Number.isSafeInteger(Number(count))) throw bad('maximum retry count must be an integer');
    max = Number(count);
  }
  if (max < 0) throw bad('maximum retry count cannot be negative');
  if (max !== 0 && name !== 'on-failure') throw bad(`maximum retry count cannot be used with restart policy '${name}'`);
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

/** The policy of a record (records older than the flag have none: "no"). */
export function policyOf(hc: HostConfig): RestartPolicy {
  return hc.RestartPolicy ?? NO_RESTART;
}

/**
 * docker's ShouldRestart (daemon/restartmanager), for a run that just exited: the delay before
 * the restart in ms, or null for none. A manual stop (docker's HasBeenManuallyStopped) wins
 * over every policy; on-failure counts the restarts already made against its maximum.
 */
export function restartDelay(rec: ContainerRecord, exitCode: number, ranMs: number): number | null {
  const policy = policyOf(rec.HostConfig);
  if (policy.Name === 'no' || rec.ManuallyStopped) return null;
  if (policy.Name === 'on-failure') {
    if (exitCode === 0) return null;
    if (policy.MaximumRetryCount > 0 && rec.RestartCount >= policy.MaximumRetryCount) return null;
  }
  // The back-off grows across restarts of short runs, and starts over after a long one.
  const previous = ranMs >= RESET_AFTER_MS ? 0 : (rec.RestartBackoff ?? 0);
  return previous === 0 ? FIRST_DELAY_MS : Math.min(previous * 2, MAX_DELAY_MS);
}

/**
 * Record the decision for a run whose exit was just recorded (under the container's lock).
 * As docker, RestartCount counts the restart when it is decided, so `inspect` of a restarting
 * container already includes it. Returns whether a restart is pending.
 */
export function decideRestart(rec: ContainerRecord, exitCode: number, startedAt: string, finishedAt: string): boolean {
  const ran = Date.parse(finishedAt) - Date.parse(startedAt);
  const delay = restartDelay(rec, exitCode, Number.isFinite(ran) ? ran : 0);
  if (delay === null) {
    delete rec.PendingRestart;
    return false;
  }
  rec.RestartCount++;
  rec.RestartBackoff = delay;
  // Waiter 0: nobody sleeps on it yet (a foreground client decided; conmon's exit command will).
  rec.PendingRestart = { Delay: delay, Waiter: 0, ExitCode: exitCode };
  return true;
}

/** Whether `pid` is alive and is `mydocker container cleanup <id>` (not a recycled pid). */
export function isWaiter(pid: number, id: string): boolean {
  if (!pid) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes('cleanup') && cmd.includes(id);
  } catch {
    return false;
  }
}

/** Whether `pid` is alive and is this container's conmon (which then still has to run its exit command). */
export function isMonitor(pid: number, id: string): boolean {
  if (!pid) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('conmon') && cmd.includes(id);
  } catch {
    return false;
  }
}

/**
 * A pending restart dropped (stop, kill, rm, a manual start), under the container's lock: the
 * waiter is never inside its locked section then, so it holds nothing and is killed at once
 * rather than left sleeping up to a minute for nothing. Returns whether one was pending.
 */
export function cancelPendingRestart(rec: ContainerRecord): boolean {
  const p = rec.PendingRestart;
  if (!p) return false;
  if (p.Waiter !== process.pid && isWaiter(p.Waiter, rec.Id)) {
    try {
      process.kill(p.Waiter, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  delete rec.PendingRestart;
  return true;
}

/**
 * A start by the user (start, restart, run): docker's ResetRestartManager(true) — the manual
 * stop is forgotten, RestartCount and the back-off start over, a pending restart is dropped.
 */
export function resetForManualStart(rec: ContainerRecord): void {
  cancelPendingRestart(rec);
  rec.ManuallyStopped = false;
  rec.RestartCount = 0;
  rec.RestartBackoff = 0;
}
