// Container statistics in runc's `events --stats` format (runc/types/events.go `Stats`), the
// `data` of {"type":"stats","id":…,"data":…}. Field names and omitempty behaviour follow the Go
// JSON tags: a zero counter tagged omitempty is left out (undefined here).
//
// Counters are uint64 in the kernel: a value beyond 2^53 (e.g. v1's unlimited
// 9223372036854771712) stays an exact bigint; serialize with statsToJSON, which prints
// bigints as JSON numbers.
import type { CgroupDir } from './dir.js';
import { parseUint } from './dir.js';

export type U64 = number | bigint;

export interface CpuUsage {
  total?: U64;
  percpu?: U64[];
  percpu_kernel?: U64[];
  percpu_user?: U64[];
  kernel: U64;
  user: U64;
}
export interface Throttling {
  periods?: U64;
  throttledPeriods?: U64;
  throttledTime?: U64;
}
export interface CpuStats {
  usage: CpuUsage;
  throttling: Throttling;
}
export interface CpusetStats {
  cpus?: number[];
  cpu_exclusive: U64;
  mems?: number[];
  mem_hardwall: U64;
  mem_exclusive: U64;
  memory_migrate: U64;
  memory_spread_page: U64;
  memory_spread_slab: U64;
  memory_pressure: U64;
  sched_load_balance: U64;
  sched_relax_domain_level: number;
}
export interface MemoryEntry {
  limit: U64;
  usage?: U64;
  max?: U64;
  failcnt: U64;
}
export interface MemoryStats {
  cache?: U64;
  usage: MemoryEntry;
  swap: MemoryEntry;
  kernel: MemoryEntry;
  kernelTCP: MemoryEntry;
  raw?: Record<string, U64>;
}
export interface PidsStats {
  current?: U64;
  limit?: U64;
}
export interface BlkioEntry {
  major?: U64;
  minor?: U64;
  op?: string;
  value?: U64;
}
export interface BlkioStats {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
}
export interface HugetlbStats {
  usage?: U64;
  max?: U64;
  failcnt: U64;
}
export interface Stats {
  cpu: CpuStats;
  cpuset: CpusetStats;
  memory: MemoryStats;
  pids: PidsStats;
  blkio: BlkioStats;
  hugetlb: Record<string, HugetlbStats>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

/** omitempty: a zero number or an empty array becomes undefined (left out of the JSON). */
export function oz<T extends U64 | unknown[]>(v: T | undefined): T | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.length ? v : undefined;
  return v === 0 || v === 0n ? undefined : v;
}

export function emptyEntry(): MemoryEntry {
  return { limit: 0, usage: undefined, max: undefined, failcnt: 0 };
}

/** Keys are laid out in Go's field order, so the JSON reads like runc's. */
export function emptyStats(): Stats {
  return {
    cpu: {
      usage: { total: undefined, percpu: undefined, percpu_kernel: undefined, percpu_user: undefined, kernel: 0, user: 0 },
      throttling: {},
    },
    cpuset: {
      cpus: undefined,
      cpu_exclusive: 0,
      mems: undefined,
      mem_hardwall: 0,
      mem_exclusive: 0,
      memory_migrate: 0,
      memory_spread_page: 0,
      memory_spread_slab: 0,
      memory_pressure: 0,
      sched_load_balance: 0,
      sched_relax_domain_level: 0,
    },
    memory: { cache: undefined, usage: emptyEntry(), swap: emptyEntry(), kernel: emptyEntry(), kernelTCP: emptyEntry(), raw: undefined },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** Read an unsigned counter; 0 when the file is missing. */
export function readU64(dir: CgroupDir, file: string): U64 {
  const t = dir.readIf(file);
  if (t === undefined || t === '') return 0;
  try {
    return parseUint(t);
  } catch {
    return 0;
  }
}

export function add(a: U64, b: U64): U64 {
  if (typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a + b)) return a + b;
  return BigInt(a) + BigInt(b);
}

export function mul(a: U64, k: number): U64 {
  if (typeof a === 'number' && Number.isSafeInteger(a * k)) return a * k;
  return BigInt(a) * BigInt(k);
}

/** "0-2,5" → [0,1,2,5] (cpuset lists). */
export function parseList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/** JSON with bigints printed as plain numbers (exact). */
export function statsToJSON(value: unknown, space?: number): string {
  const marks: string[] = [];
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v !== 'bigint') return v;
      marks.push(v.toString());
      return `\u0000big${marks.length - 1}\u0000`;
    },
    space,
  );
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_, i: string) => marks[Number(i)]!);
}
