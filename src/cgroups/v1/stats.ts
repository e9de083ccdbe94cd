// Statistics from v1 controllers (runc's fs GetStats), in the `events --stats` shape.
import { type CgroupDir, parseKeyValues } from '../dir.js';
import {
  type BlkioEntry,
  type BlkioStats,
  emptyEntry,
  emptyStats,
  type MemoryEntry,
  mul,
  oz,
  parseList,
  readU64,
  type Stats,
} from '../stats.js';
import { hugetlbStatsV2 } from '../v2/stats.js';

/** Where each v1 controller's directory is (undefined: not mounted/joined). */
export type V1Lookup = (controller: string) => CgroupDir | undefined;

const NS_PER_TICK = 1e9 / 100; // cpuacct.stat counts USER_HZ (100) ticks

function memoryEntry(dir: CgroupDir, prefix: string): MemoryEntry {
  if (!dir.has(`${prefix}.usage_in_bytes`)) return emptyEntry();
  return {
    limit: readU64(dir, `${prefix}.limit_in_bytes`),
    usage: oz(readU64(dir, `${prefix}.usage_in_bytes`)),
    max: oz(readU64(dir, `${prefix}.max_usage_in_bytes`)),
    failcnt: readU64(dir, `${prefix}.failcnt`),
  };
}

function blkioEntries(dir: CgroupDir, file: string): BlkioEntry[] | undefined {
  const text = dir.readIf(file);
  if (!text) return undefined;
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const dev = /^(\d+):(\d+)$/.exec(f[0]!);
    if (!dev || !/^\d+$/.test(f[2]!)) continue;
    out.push({ major: oz(Number(dev[1])), minor: oz(Number(dev[2])), op: f[1], value: oz(Number(f[2])) });
  }
  return oz(out);
}

function blkioStats(dir: CgroupDir): BlkioStats {
  if (dir.has('blkio.io_serviced_recursive')) {
    // CFQ
    return {
      sectorsRecursive: blkioEntries(dir, 'blkio.sectors_recursive'),
      ioServiceBytesRecursive: blkioEntries(dir, 'blkio.io_service_bytes_recursive'),
      ioServicedRecursive: blkioEntries(dir, 'blkio.io_serviced_recursive'),
      ioQueueRecursive: blkioEntries(dir, 'blkio.io_queued_recursive'),
      ioServiceTimeRecursive: blkioEntries(dir, 'blkio.io_service_time_recursive'),
      ioWaitTimeRecursive: blkioEntries(dir, 'blkio.io_wait_time_recursive'),
      ioMergedRecursive: blkioEntries(dir, 'blkio.io_merged_recursive'),
      ioTimeRecursive: blkioEntries(dir, 'blkio.time_recursive'),
    };
  }
  if (dir.has('blkio.bfq.io_serviced_recursive')) {
    return {
      ioServiceBytesRecursive: blkioEntries(dir, 'blkio.bfq.io_service_bytes_recursive'),
      ioServicedRecursive: blkioEntries(dir, 'blkio.bfq.io_serviced_recursive'),
    };
  }
  return {
    ioServiceBytesRecursive: blkioEntries(dir, 'blkio.throttle.io_service_bytes_recursive'),
    ioServicedRecursive: blkioEntries(dir, 'blkio.throttle.io_serviced_recursive'),
  };
}

export function statsV1(v1: V1Lookup, unified: CgroupDir | undefined, hugePageSizes: string[]): Stats {
  const s = emptyStats();

  const cpuacct = v1('cpuacct');
  if (cpuacct) {
    s.cpu.usage.total = oz(readU64(cpuacct, 'cpuacct.usage'));
    s.cpu.usage.percpu = oz((cpuacct.readIf('cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map(Number));
    const st = parseKeyValues(cpuacct.readIf('cpuacct.stat') ?? '');
    s.cpu.usage.user = mul(st.user ?? 0, NS_PER_TICK);
    s.cpu.usage.kernel = mul(st.system ?? 0, NS_PER_TICK);
    const all = cpuacct.readIf('cpuacct.usage_all');
    if (all) {
      const rows = all
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/).map(Number))
        .filter((r) => r.length === 3);
      s.cpu.usage.percpu_user = oz(rows.map((r) => r[1]!));
      s.cpu.usage.percpu_kernel = oz(rows.map((r) => r[2]!));
    }
  }
  const cpu = v1('cpu');
  if (cpu) {
    const st = parseKeyValues(cpu.readIf('cpu.stat') ?? '');
    s.cpu.throttling = {
      periods: oz(st.nr_periods),
      throttledPeriods: oz(st.nr_throttled),
      throttledTime: oz(st.throttled_time),
    };
  }

  const cpuset = v1('cpuset');
  if (cpuset) {
    const c = s.cpuset;
    c.cpus = oz(parseList(cpuset.readIf('cpuset.cpus')));
    c.mems = oz(parseList(cpuset.readIf('cpuset.mems')));
    c.cpu_exclusive = readU64(cpuset, 'cpuset.cpu_exclusive');
    c.mem_hardwall = readU64(cpuset, 'cpuset.mem_hardwall');
    c.mem_exclusive = readU64(cpuset, 'cpuset.mem_exclusive');
    c.memory_migrate = readU64(cpuset, 'cpuset.memory_migrate');
    c.memory_spread_page = readU64(cpuset, 'cpuset.memory_spread_page');
    c.memory_spread_slab = readU64(cpuset, 'cpuset.memory_spread_slab');
    c.memory_pressure = readU64(cpuset, 'cpuset.memory_pressure');
    c.sched_load_balance = readU64(cpuset, 'cpuset.sched_load_balance');
    c.sched_relax_domain_level = Number(cpuset.readIf('cpuset.sched_relax_domain_level') ?? 0) || 0;
  }

  const mem = v1('memory');
  if (mem) {
    const raw = parseKeyValues(mem.readIf('memory.stat') ?? '');
    s.memory = {
      cache: oz(raw.cache),
      usage: memoryEntry(mem, 'memory'),
      swap: memoryEntry(mem, 'memory.memsw'),
      kernel: memoryEntry(mem, 'memory.kmem'),
      kernelTCP: memoryEntry(mem, 'memory.kmem.tcp'),
      raw: Object.keys(raw).length ? raw : undefined,
    };
  }

  const pids = v1('pids');
  if (pids) {
    const max = pids.readIf('pids.max');
    s.pids = { current: oz(readU64(pids, 'pids.current')), limit: max === 'max' ? undefined : oz(readU64(pids, 'pids.max')) };
  }

  const blkio = v1('blkio');
  if (blkio) s.blkio = blkioStats(blkio);

  const hugetlb = v1('hugetlb');
  if (hugetlb) {
    for (const size of hugePageSizes) {
      if (!hugetlb.has(`hugetlb.${size}.usage_in_bytes`)) continue;
      s.hugetlb[size] = {
        usage: oz(readU64(hugetlb, `hugetlb.${size}.usage_in_bytes`)),
        max: oz(readU64(hugetlb, `hugetlb.${size}.max_usage_in_bytes`)),
        failcnt: readU64(hugetlb, `hugetlb.${size}.failcnt`),
      };
    }
  } else if (unified) {
    // Hybrid hosts can have hugetlb on the unified hierarchy.
    s.hugetlb = hugetlbStatsV2(unified, hugePageSizes);
  }
  return s;
}
