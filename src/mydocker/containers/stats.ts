// `stats`: a running container's resource use, as docker computes its columns — from the
// runtime's cgroup statistics (the same `events --stats` data runc gives), the container's
// network devices (/proc/<pid>/net/dev, seen from its own network namespace) and the clock.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { BlkioEntry, U64 } from '../../cgroups/stats.js';
import type { Engine } from '../engine.js';
import type { ContainerRecord } from './record.js';
import { liveState } from './status.js';

export interface StatsSample {
  /** process.hrtime.bigint() when taken. */
  at: bigint;
  /** CPU time of every process of the container so far, in ns. */
  cpuNs: number;
  /** Memory in use without the inactive page cache (what docker shows). */
  memUsed: number;
  /** The memory limit, or the host's memory when there is none. */
  memLimit: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
  pids: number;
}

const num = (v: U64 | undefined): number => (v === undefined ? 0 : Number(v));

/** Bytes per op ("Read"/"Write") summed over devices. */
function blkio(entries: BlkioEntry[] | undefined, op: string): number {
  return (entries ?? []).filter((e) => e.op?.toLowerCase() === op).reduce((n, e) => n + num(e.value), 0);
}

/** rx/tx bytes of every interface but lo, from the container's network namespace. */
export function netBytes(pid: number): { rx: number; tx: number } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return { rx: 0, tx: 0 };
  }
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** One sample of a container; null when it is not running (or stopped meanwhile). */
export function sampleStats(engine: Engine, rec: ContainerRecord): StatsSample | null {
  const live = liveState(engine, rec);
  if (!live.Running) return null;
  let s;
  try {
    s = engine.runtime.stats(rec.Id);
  } catch {
    return null; // it stopped between the two reads
  }
  const at = process.hrtime.bigint();
  const raw = s.memory?.raw ?? {};
  // docker: usage minus inactive file pages (v1 total_inactive_file, v2 inactive_file).
  const inactive = num(raw.total_inactive_file ?? raw.inactive_file);
  const usage = num(s.memory?.usage.usage);
  const host = totalmem();
  const limit = num(s.memory?.usage.limit);
  // The host network's counters are the host's, not the container's: docker shows none.
  const net = rec.HostConfig.NetworkMode === 'host' ? { rx: 0, tx: 0 } : netBytes(live.Pid);
  return {
    at,
    cpuNs: num(s.cpu?.usage.total),
    memUsed: usage > inactive ? usage - inactive : usage,
    memLimit: limit > 0 && limit < host ? limit : host,
    netRx: net.rx,
    netTx: net.tx,
    blkRead: blkio(s.blkio?.ioServiceBytesRecursive, 'read'),
    blkWrite: blkio(s.blkio?.ioServiceBytesRecursive, 'write'),
    pids: num(s.pids?.current),
  };
}

/**
 * CPU % over the time between two samples, as docker's: the container's CPU time over the
 * wall time, where one full CPU is 100 % (two busy CPUs: 200 %).
 */
export function cpuPercent(prev: StatsSample | undefined, cur: StatsSample): number {
  if (!prev) return 0;
  const wall = Number(cur.at - prev.at);
  const cpu = cur.cpuNs - prev.cpuNs;
  return wall > 0 && cpu > 0 ? (cpu / wall) * 100 : 0;
}
