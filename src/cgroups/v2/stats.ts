// Statistics from a cgroup v2 directory (runc's fs2 GetStats), in the `events --stats` shape.
//   cpu.stat       usage_usec/user_usec/system_usec (µs → ns), nr_periods, nr_throttled, throttled_usec
//   memory.*       current/max/peak, memory.events "max" as failcnt, memory.stat as raw (cache = file);
//                  swap is reported as memory+swap, like v1 (runc does the same)
//   pids.*         current, max
//   io.stat        rbytes/wbytes → ioServiceBytesRecursive, rios/wios → ioServicedRecursive
//   hugetlb.*      <size>.current, <size>.events "max" as failcnt
//   cpuset.*       cpus.effective, mems.effective
import { type CgroupDir, MAX_UINT64, parseKeyValues } from '../dir.js';
import {
  add,
  type BlkioEntry,
  emptyEntry,
  emptyStats,
  type HugetlbStats,
  type MemoryEntry,
  mul,
  oz,
  parseList,
  readU64,
  type Stats,
} from '../stats.js';

export function hugetlbStatsV2(dir: CgroupDir, sizes: string[]): Record<string, HugetlbStats> {
  const out: Record<string, HugetlbStats> = {};
  for (const size of sizes) {
    if (!dir.has(`hugetlb.${size}.current`)) continue;
    const ev = parseKeyValues(dir.readIf(`hugetlb.${size}.events`) ?? '');
    out[size] = { usage: oz(readU64(dir, `hugetlb.${size}.current`)), failcnt: ev.max ?? 0 };
  }
  return out;
}

export function statsV2(dir: CgroupDir, hugePageSizes: string[]): Stats {
  const s = emptyStats();

  const cpu = parseKeyValues(dir.readIf('cpu.stat') ?? '');
  s.cpu.usage.total = oz(mul(cpu.usage_usec ?? 0, 1000));
  s.cpu.usage.user = mul(cpu.user_usec ?? 0, 1000);
  s.cpu.usage.kernel = mul(cpu.system_usec ?? 0, 1000);
  s.cpu.throttling = {
    periods: oz(cpu.nr_periods),
    throttledPeriods: oz(cpu.nr_throttled),
    throttledTime: oz(mul(cpu.throttled_usec ?? 0, 1000)),
  };

  if (dir.has('cpuset.cpus.effective')) {
    s.cpuset.cpus = oz(parseList(dir.readIf('cpuset.cpus.effective')));
    s.cpuset.mems = oz(parseList(dir.readIf('cpuset.mems.effective')));
  }

  if (dir.has('memory.current')) {
    const raw = parseKeyValues(dir.readIf('memory.stat') ?? '');
    const events = parseKeyValues(dir.readIf('memory.events') ?? '');
    const usage: MemoryEntry = {
      limit: readU64(dir, 'memory.max'),
      usage: oz(readU64(dir, 'memory.current')),
      max: oz(readU64(dir, 'memory.peak')),
      failcnt: events.max ?? 0,
    };
    const swap: MemoryEntry = emptyEntry();
    if (dir.has('memory.swap.current')) {
      const swapLimit = readU64(dir, 'memory.swap.max');
      swap.usage = oz(add(readU64(dir, 'memory.swap.current'), usage.usage ?? 0));
      swap.limit = swapLimit === MAX_UINT64 || usage.limit === MAX_UINT64 ? MAX_UINT64 : add(swapLimit, usage.limit);
      swap.failcnt = parseKeyValues(dir.readIf('memory.swap.events') ?? '').max ?? 0;
    }
    s.memory = {
      cache: oz(raw.file),
      usage,
      swap,
      kernel: emptyEntry(),
      kernelTCP: emptyEntry(),
      raw: Object.keys(raw).length ? raw : undefined,
    };
  }

  if (dir.has('pids.current')) {
    const max = dir.readIf('pids.max');
    s.pids = { current: oz(readU64(dir, 'pids.current')), limit: max === 'max' ? undefined : oz(readU64(dir, 'pids.max')) };
  }

  const io = dir.readIf('io.stat');
  if (io) {
    const bytes: BlkioEntry[] = [];
    const ios: BlkioEntry[] = [];
    for (const line of io.split('\n')) {
      const [dev, ...kvs] = line.trim().split(/\s+/);
      const m = /^(\d+):(\d+)$/.exec(dev ?? '');
      if (!m) continue;
      for (const kv of kvs) {
        const [k, v] = kv.split('=');
        if (v === undefined || !/^\d+$/.test(v)) continue;
        const entry = (op: string): BlkioEntry => ({ major: oz(Number(m[1])), minor: oz(Number(m[2])), op, value: oz(Number(v)) });
        if (k === 'rbytes') bytes.push(entry('Read'));
        else if (k === 'wbytes') bytes.push(entry('Write'));
        else if (k === 'rios') ios.push(entry('Read'));
        else if (k === 'wios') ios.push(entry('Write'));
      }
    }
    s.blkio = { ioServiceBytesRecursive: oz(bytes), ioServicedRecursive: oz(ios) };
  }

  s.hugetlb = hugetlbStatsV2(dir, hugePageSizes);
  return s;
}
