// The runtime ↔ exec helper protocol: a closed set of JSON messages over one SOCK_SEQPACKET
// socketpair (one write is one message), as for the init (protocol.ts).
//
//   runtime → helper  config   the ExecConfig, once, first
//   helper → runtime  exec     everything is in place; execve() comes next
//   helper → runtime  error    anything failed (before `exec`, or execve itself); one line
//
// The helper's end is close-on-exec: after `exec`, EOF means execve() succeeded (the process
// now runs under the helper's pid), an `error` means it failed. EOF before `exec` means the
// helper died.
import type { ProcessPlan, SeccompPlan } from './init-config.js';

export interface ExecNamespace {
  /** The /proc/<pid>/ns file name: ipc, uts, net, cgroup, mnt. */
  type: string;
  /** CLONE_NEW* flag for setns. */
  flag: number;
  /** The fd (open on the init's namespace) as the helper received it. */
  fd: number;
}

export interface ExecConfig {
  id: string;
  process: ProcessPlan;
  /** Namespaces of the container to join, in order (mnt last). The pid namespace is joined at spawn. */
  namespaces: ExecNamespace[];
  /** cgroup.procs files of the container (host paths), joined right before the credentials change. */
  cgroupProcs: string[];
  /** The connected console socket (process.terminal), as the helper received it; -1 without. */
  consoleFd: number;
  /** fds 3 .. 3+preserveFds-1 pass through to the process. */
  preserveFds: number;
  /** The container's seccomp filter (exec'd processes get it too, as in runc). */
  seccomp?: SeccompPlan;
}

export type ToExec = { type: 'config'; config: ExecConfig };
export type FromExec = { type: 'exec' } | { type: 'error'; message: string; code?: string };

/** The same framing as the init's protocol: one JSON message per SOCK_SEQPACKET write. */
export { send as sendMessage, receive as receiveMessage } from './protocol.js';
