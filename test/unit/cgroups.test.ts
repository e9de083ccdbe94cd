// cgroups: the mapping logic with controllers pointed at temp directories (spec → file writes,
// v1 and v2 conversions, refusals), layout detection from mountinfo text, path rules, the
// device rule emulation and the eBPF program it becomes, stats parsing. No kernel needed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyResources, type Target } from '../../src/cgroups/apply.js';
import { emulateDevices, ruleLine, withDefaultDevices } from '../../src/cgroups/devices.js';
import { CgroupDir } from '../../src/cgroups/dir.js';
import { FsCgroupManager } from '../../src/cgroups/fs-manager.js';
import { type ApplyContext, type HostFacts, hugePageSizeName } from '../../src/cgroups/host.js';
import { parseMountinfo, parseProcCgroup } from '../../src/cgroups/layout.js';
import { innerPath, resolveInner } from '../../src/cgroups/paths.js';
import { statsToJSON } from '../../src/cgroups/stats.js';
import { ignoreKernelMemory } from '../../src/cgroups/kernel-memory.js';
import { statsV1 } from '../../src/cgroups/v1/stats.js';
import { sharesToWeight } from '../../src/cgroups/v2/cpu.js';
import { deviceProgram, encodeProgram } from '../../src/cgroups/v2/devices.js';
import { blkioWeightToIoWeight } from '../../src/cgroups/v2/io.js';
import { swapToV2 } from '../../src/cgroups/v2/memory.js';
import { statsV2 } from '../../src/cgroups/v2/stats.js';
import type { LinuxResources } from '../../src/spec/generated/types.js';
import { dirsUnder, fakeDir, fakeV1Layout } from '../helpers/cgroups.js';

const host: HostFacts = { hugePageSizes: () => ['2MB', '1GB'], swapTotal: () => 0 };
const create: ApplyContext = { update: false, host };
const update: ApplyContext = { update: true, host };

/** A fake cgroup dir with `files`, and the writes made to it. */
function fake(files: Record<string, string>) {
  const path = fakeDir(files);
  const writes: string[] = [];
  const dir = new CgroupDir(path, (file, value) => writes.push(`${file.slice(path.length + 1)}=${value}`));
  const read = (f: string) => readFileSync(join(path, f), 'utf8');
  return { dir, writes, read, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

function v1Target(dirs: Record<string, CgroupDir>, unified?: CgroupDir): Target {
  return { kind: unified ? 'hybrid' : 'v1', v1: (c) => dirs[c], unified };
}
function v2Target(dir: CgroupDir): Target {
  return { kind: 'v2', v1: () => undefined, unified: dir };
}

const V1_MEMORY = {
  'memory.limit_in_bytes': '9223372036854771712',
  'memory.memsw.limit_in_bytes': '9223372036854771712',
  'memory.soft_limit_in_bytes': '',
  'memory.kmem.limit_in_bytes': '',
  'memory.kmem.tcp.limit_in_bytes': '',
  'memory.swappiness': '60',
  'memory.oom_control': '',
  'memory.use_hierarchy': '1',
  'memory.usage_in_bytes': '1048576',
};

const V2_FILES = {
  'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma',
  'memory.max': 'max',
  'memory.low': '0',
  'memory.swap.max': 'max',
  'memory.current': '1048576',
  'cpu.weight': '100',
  'cpu.max': 'max 100000',
  'cpu.max.burst': '0',
  'cpu.idle': '0',
  'cpuset.cpus': '',
  'cpuset.mems': '',
  'pids.max': 'max',
  'io.weight': 'default 100',
  'io.max': '',
  'hugetlb.2MB.max': 'max',
  'hugetlb.1GB.max': 'max',
  'rdma.max': '',
  'memory.high': 'max',
};

describe('layout detection', () => {
  const hybrid = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    '99 98 0:32 / /run/x/rootfs/sys/fs/cgroup/memory ro - cgroup cgroup rw,memory',
  ].join('\n');

  it('finds a hybrid host: v1 hierarchies (co-mounted ones together) plus the unified mount', () => {
    const l = parseMountinfo(hybrid);
    assert.equal(l.kind, 'hybrid');
    assert.equal(l.unified, '/sys/fs/cgroup/unified');
    assert.deepEqual(l.v1, [
      { mount: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] },
      { mount: '/sys/fs/cgroup/memory', controllers: ['memory'] },
      { mount: '/sys/fs/cgroup/systemd', controllers: ['name=systemd'] },
    ]);
  });

  it('finds pure v2 and pure v1', () => {
    assert.deepEqual(parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate'), {
      kind: 'v2',
      v1: [],
      unified: '/sys/fs/cgroup',
    });
    const v1 = parseMountinfo('35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory');
    assert.equal(v1.kind, 'v1');
    assert.equal(v1.unified, undefined);
  });

  it('refuses a host without cgroups', () => {
    assert.throws(() => parseMountinfo('1 0 0:1 / / rw - ext4 /dev/vda rw'), /no cgroup filesystem/);
  });

  it('parses /proc/<pid>/cgroup', () => {
    const m = parseProcCgroup('4:memory:/process_api/x\n1:cpu,cpuacct:/\n9:name=systemd:/a\n0::/u\n');
    assert.equal(m.get('memory'), '/process_api/x');
    assert.equal(m.get('cpuacct'), '/');
    assert.equal(m.get('name=systemd'), '/a');
    assert.equal(m.get(''), '/u');
  });
});

describe('cgroupsPath', () => {
  it('absent: our own parent', () => {
    assert.deepEqual(innerPath({ id: 'c1' }), { kind: 'default', path: '/mydocker-runc/c1' });
  });
  it('absolute: relative to each hierarchy root', () => {
    assert.deepEqual(innerPath({ id: 'c1', cgroupsPath: '/test//c4/' }), { kind: 'absolute', path: '/test/c4' });
  });
  it('relative: below the runtime own cgroup on v1, below its parent on v2 (like runc)', () => {
    const p = innerPath({ id: 'c1', cgroupsPath: 'pod/c1' });
    assert.equal(resolveInner(p, '/user.slice/session-1.scope', false), '/user.slice/session-1.scope/pod/c1');
    assert.equal(resolveInner(p, '/user.slice/session-1.scope', true), '/user.slice/pod/c1');
  });
  it('refuses "..", the root, and the systemd driver', () => {
    assert.throws(() => innerPath({ id: 'c', cgroupsPath: '/a/../../b' }), /"\.\." is not allowed/);
    assert.throws(() => innerPath({ id: 'c', cgroupsPath: '/' }), /cannot be a hierarchy's root/);
    assert.throws(
      () => innerPath({ id: 'c', cgroupsPath: 'system.slice:docker:c', systemd: true }),
      /--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs/,
    );
  });
});

describe('v1 memory', () => {
  it('writes limit, memsw, reservation, swappiness, oom_control', () => {
    const f = fake(V1_MEMORY);
    try {
      applyResources(
        v1Target({ memory: f.dir }),
        { memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, swappiness: 10, disableOOMKiller: true } },
        create,
      );
      assert.deepEqual(f.writes, [
        `memory.limit_in_bytes=${64 << 20}`,
        `memory.memsw.limit_in_bytes=${128 << 20}`,
        `memory.soft_limit_in_bytes=${32 << 20}`,
        'memory.swappiness=10',
        'memory.oom_control=1',
      ]);
    } finally {
      f.cleanup();
    }
  });

  it('growing past the current limit: memsw first; lowering: memory first; limit -1 alone makes memsw -1 too', () => {
    const f = fake({ ...V1_MEMORY, 'memory.limit_in_bytes': String(64 << 20) });
    try {
      applyResources(v1Target({ memory: f.dir }), { memory: { limit: 256 << 20, swap: 512 << 20 } }, update);
      assert.deepEqual(f.writes, [`memory.memsw.limit_in_bytes=${512 << 20}`, `memory.limit_in_bytes=${256 << 20}`]);
      f.writes.length = 0;
      applyResources(v1Target({ memory: f.dir }), { memory: { limit: 64 << 20, swap: 64 << 20 } }, create);
      assert.deepEqual(f.writes, [`memory.limit_in_bytes=${64 << 20}`, `memory.memsw.limit_in_bytes=${64 << 20}`]);
      f.writes.length = 0;
      applyResources(v1Target({ memory: f.dir }), { memory: { limit: -1 } }, create);
      assert.deepEqual(f.writes, ['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
    } finally {
      f.cleanup();
    }
  });

  it('refuses swap below the limit', () => {
    const f = fake(V1_MEMORY);
    try {
      assert.throws(
        () => applyResources(v1Target({ memory: f.dir }), { memory: { limit: 100, swap: 50 } }, create),
        /^ConfigError: linux\.resources\.memory\.swap: memory\+swap limit 50 must be >= the memory limit 100/,
      );
    } finally {
      f.cleanup();
    }
  });

  it('kernel and kernelTCP: dropped with one warning, never written (v1 and v2)', () => {
    const r: LinuxResources = { memory: { limit: 64 << 20, kernel: 1 << 20, kernelTCP: -1 } };
    assert.match(ignoreKernelMemory(r) ?? '', /kernel memory limits are deprecated and ignored/);
    assert.deepEqual(r, { memory: { limit: 64 << 20 } });
    assert.equal(ignoreKernelMemory(r), undefined, 'nothing left to warn about');
    assert.equal(ignoreKernelMemory({ cpu: { shares: 2 } }), undefined);
    const f = fake(V1_MEMORY);
    try {
      applyResources(v1Target({ memory: f.dir }), { memory: { kernel: 1 << 20, kernelTCP: 1 << 20 } }, create);
      assert.deepEqual(f.writes, []);
    } finally {
      f.cleanup();
    }
  });

  it('without swap accounting: unlimited or "no swap on a swapless host" pass, anything else is refused', () => {
    const { 'memory.memsw.limit_in_bytes': _, ...noMemsw } = V1_MEMORY;
    const f = fake(noMemsw);
    try {
      applyResources(v1Target({ memory: f.dir }), { memory: { limit: 100 << 20, swap: 100 << 20 } }, create);
      applyResources(v1Target({ memory: f.dir }), { memory: { limit: 100 << 20, swap: -1 } }, create);
      assert.throws(
        () => applyResources(v1Target({ memory: f.dir }), { memory: { limit: 100 << 20, swap: 200 << 20 } }, create),
        /linux\.resources\.memory\.swap: this kernel has no swap accounting/,
      );
    } finally {
      f.cleanup();
    }
  });

  it('checkBeforeUpdate refuses a limit below current usage on update only', () => {
    const f = fake(V1_MEMORY);
    try {
      const r: LinuxResources = { memory: { limit: 4096, checkBeforeUpdate: true } };
      assert.throws(() => applyResources(v1Target({ memory: f.dir }), r, update), /rejecting memory limit 4096 below current usage 1048576/);
      applyResources(v1Target({ memory: f.dir }), r, create);
      assert.equal(f.read('memory.limit_in_bytes'), '4096');
    } finally {
      f.cleanup();
    }
  });
});

describe('v2 memory', () => {
  it('converts OCI memory+swap to memory.swap.max like runc', () => {
    assert.equal(swapToV2(0, -1), -1);
    assert.equal(swapToV2(-1, 100), -1);
    assert.equal(swapToV2(300, 100), 200);
    assert.equal(swapToV2(100, 100), 0);
    assert.throws(() => swapToV2(50, 100), /must be >= the memory limit/);
    assert.throws(() => swapToV2(50, 0), /a swap limit needs a memory limit/);
  });

  it('writes memory.swap.max, memory.max ("max" for -1), memory.low', () => {
    const f = fake(V2_FILES);
    try {
      applyResources(v2Target(f.dir), { memory: { limit: 64 << 20, swap: 96 << 20, reservation: 16 << 20 } }, create);
      assert.deepEqual(f.writes, [`memory.swap.max=${32 << 20}`, `memory.max=${64 << 20}`, `memory.low=${16 << 20}`]);
      f.writes.length = 0;
      applyResources(v2Target(f.dir), { memory: { limit: -1 } }, update);
      assert.deepEqual(f.writes, ['memory.swap.max=max', 'memory.max=max']);
      f.writes.length = 0;
      applyResources(v2Target(f.dir), { memory: { limit: 64 << 20, swap: 64 << 20 } }, create);
      assert.deepEqual(f.writes, ['memory.swap.max=0', `memory.max=${64 << 20}`]);
    } finally {
      f.cleanup();
    }
  });

  it('refuses the v1-only fields with the field name', () => {
    const f = fake(V2_FILES);
    try {
      const cases: [LinuxResources, RegExp][] = [
        [{ memory: { swappiness: 10 } }, /linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/],
        [{ memory: { disableOOMKiller: true } }, /linux\.resources\.memory\.disableOOMKiller/],
        [{ memory: { useHierarchy: false } }, /linux\.resources\.memory\.useHierarchy: cgroup v2 is always hierarchical/],
        [{ cpu: { realtimeRuntime: 1000 } }, /linux\.resources\.cpu\.realtimeRuntime: .*not supported on cgroup v2/],
        [{ network: { classID: 0x100001 } }, /linux\.resources\.network\.classID: net_cls is a cgroup v1 controller/],
        [{ network: { priorities: [{ name: 'eth0', priority: 1 }] } }, /linux\.resources\.network\.priorities/],
        [{ blockIO: { leafWeight: 100 } }, /linux\.resources\.blockIO\.leafWeight: not supported on cgroup v2/],
      ];
      for (const [r, re] of cases) assert.throws(() => applyResources(v2Target(f.dir), r, create), re);
      assert.deepEqual(f.writes, [], 'a refused field writes nothing');
      // -1 asks for "unlimited", which v2 is: accepted.
      applyResources(v2Target(f.dir), { memory: { kernel: -1, kernelTCP: -1, swappiness: -1 } }, create);
    } finally {
      f.cleanup();
    }
  });

  it('a controller missing from cgroup.controllers is named', () => {
    const f = fake({ ...V2_FILES, 'cgroup.controllers': 'cpu memory' });
    try {
      assert.throws(
        () => applyResources(v2Target(f.dir), { pids: { limit: 5 } }, create),
        /linux\.resources\.pids\.limit: the pids controller is not enabled in .* \(cgroup\.controllers: cpu memory\)/,
      );
    } finally {
      f.cleanup();
    }
  });
});

describe('cpu', () => {
  it('v1: shares, period, quota, burst, rt, idle, cpuset', () => {
    const cpu = fake({
      'cpu.shares': '1024',
      'cpu.cfs_period_us': '100000',
      'cpu.cfs_quota_us': '-1',
      'cpu.cfs_burst_us': '0',
      'cpu.rt_period_us': '1000000',
      'cpu.rt_runtime_us': '0',
      'cpu.idle': '0',
    });
    const cpuset = fake({ 'cpuset.cpus': '0-1', 'cpuset.mems': '0' });
    try {
      applyResources(
        v1Target({ cpu: cpu.dir, cpuset: cpuset.dir }),
        { cpu: { shares: 512, period: 50000, quota: 25000, burst: 1000, realtimePeriod: 500000, realtimeRuntime: 1000, idle: 1, cpus: '1', mems: '0' } },
        create,
      );
      assert.deepEqual(cpu.writes, [
        'cpu.shares=512',
        'cpu.cfs_period_us=50000',
        'cpu.cfs_quota_us=25000',
        'cpu.cfs_burst_us=1000',
        'cpu.rt_period_us=500000',
        'cpu.rt_runtime_us=1000',
        'cpu.idle=1',
      ]);
      assert.deepEqual(cpuset.writes, ['cpuset.cpus=1', 'cpuset.mems=0']);
    } finally {
      cpu.cleanup();
      cpuset.cleanup();
    }
  });

  it('v1: a clamped cpu.shares is reported', () => {
    const cpu = fake({ 'cpu.shares': '1024' });
    try {
      const clamping = new CgroupDir(cpu.dir.path);
      const real = clamping.write.bind(clamping);
      clamping.write = (field, name) => real(field, name, '262144');
      assert.throws(
        () => applyResources(v1Target({ cpu: clamping }), { cpu: { shares: 1_000_000 } }, create),
        /linux\.resources\.cpu\.shares: the kernel set cpu\.shares to 262144 instead of 1000000/,
      );
    } finally {
      cpu.cleanup();
    }
  });

  it('v2: shares → cpu.weight, quota/period → cpu.max', () => {
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(262144), 10000);
    const f = fake({ ...V2_FILES, 'cpu.max': 'max 250000' });
    try {
      applyResources(v2Target(f.dir), { cpu: { shares: 1024, quota: 50000, burst: 1000, cpus: '0', mems: '0', idle: 0 } }, create);
      assert.deepEqual(f.writes, ['cpu.weight=39', 'cpu.max=50000 250000', 'cpu.max.burst=1000', 'cpu.idle=0', 'cpuset.cpus=0', 'cpuset.mems=0']);
      f.writes.length = 0;
      applyResources(v2Target(f.dir), { cpu: { quota: -1, period: 100000 } }, update);
      assert.deepEqual(f.writes, ['cpu.max=max 100000']);
    } finally {
      f.cleanup();
    }
  });
});

describe('pids, block I/O, hugetlb, rdma, network', () => {
  it('pids.limit: >0 the limit, -1 "max", 0 leaves it', () => {
    const f = fake(V2_FILES);
    try {
      applyResources(v2Target(f.dir), { pids: { limit: 5 } }, create);
      applyResources(v2Target(f.dir), { pids: { limit: -1 } }, create);
      applyResources(v2Target(f.dir), { pids: { limit: 0 } }, create);
      assert.deepEqual(f.writes, ['pids.max=5', 'pids.max=max']);
    } finally {
      f.cleanup();
    }
  });

  it('v1 blkio: BFQ weight files when CFQ is absent; throttles one line each; leafWeight needs CFQ', () => {
    const f = fake({
      'blkio.bfq.weight': '100',
      'blkio.bfq.weight_device': '',
      'blkio.throttle.read_bps_device': '',
      'blkio.throttle.write_iops_device': '',
    });
    try {
      applyResources(
        v1Target({ blkio: f.dir }),
        {
          blockIO: {
            weight: 500,
            weightDevice: [{ major: 8, minor: 0, weight: 300 }],
            throttleReadBpsDevice: [
              { major: 8, minor: 0, rate: 1048576 },
              { major: 8, minor: 16, rate: 0 },
            ],
            throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
          },
        },
        create,
      );
      assert.deepEqual(f.writes, [
        'blkio.bfq.weight=500',
        'blkio.bfq.weight_device=8:0 300',
        'blkio.throttle.read_bps_device=8:0 1048576',
        'blkio.throttle.read_bps_device=8:16 0',
        'blkio.throttle.write_iops_device=8:0 100',
      ]);
      assert.throws(
        () => applyResources(v1Target({ blkio: f.dir }), { blockIO: { leafWeight: 100 } }, create),
        /linux\.resources\.blockIO\.leafWeight: this kernel has no blkio\.leaf_weight/,
      );
    } finally {
      f.cleanup();
    }
  });

  it('v2 io: weight conversion to io.weight, io.max lines, rate 0 is "max"', () => {
    assert.equal(blkioWeightToIoWeight(10), 1);
    assert.equal(blkioWeightToIoWeight(500), 4950);
    assert.equal(blkioWeightToIoWeight(1000), 10000);
    const f = fake(V2_FILES);
    try {
      applyResources(
        v2Target(f.dir),
        {
          blockIO: {
            weight: 500,
            weightDevice: [{ major: 254, minor: 0, weight: 1000 }],
            throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }],
            throttleWriteBpsDevice: [{ major: 254, minor: 0, rate: 0 }],
            throttleReadIOPSDevice: [{ major: 254, minor: 0, rate: 10 }],
            throttleWriteIOPSDevice: [{ major: 254, minor: 0, rate: 20 }],
          },
        },
        create,
      );
      assert.deepEqual(f.writes, [
        'io.weight=4950',
        'io.weight=254:0 10000',
        'io.max=254:0 rbps=1048576',
        'io.max=254:0 wbps=max',
        'io.max=254:0 riops=10',
        'io.max=254:0 wiops=20',
      ]);
    } finally {
      f.cleanup();
    }
  });

  it('hugetlb: v1 and v2 file names; an unknown page size names the sizes the host has', () => {
    assert.equal(hugePageSizeName(2048), '2MB');
    assert.equal(hugePageSizeName(1048576), '1GB');
    assert.equal(hugePageSizeName(64), '64KB');
    const v1 = fake({ 'hugetlb.2MB.limit_in_bytes': '', 'hugetlb.2MB.rsvd.limit_in_bytes': '' });
    const v2 = fake(V2_FILES);
    try {
      applyResources(v1Target({ hugetlb: v1.dir }), { hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] }, create);
      assert.deepEqual(v1.writes, [`hugetlb.2MB.limit_in_bytes=${4 << 20}`, `hugetlb.2MB.rsvd.limit_in_bytes=${4 << 20}`]);
      applyResources(v2Target(v2.dir), { hugepageLimits: [{ pageSize: '1GB', limit: 0 }] }, create);
      assert.deepEqual(v2.writes, ['hugetlb.1GB.max=0']);
      assert.throws(
        () => applyResources(v2Target(v2.dir), { hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }, create),
        /linux\.resources\.hugepageLimits\[0\]\.pageSize: huge page size "3MB" does not exist on this host \(it has: 2MB, 1GB\)/,
      );
    } finally {
      v1.cleanup();
      v2.cleanup();
    }
  });

  it('rdma.max and v1 net_cls/net_prio; unmounted v1 controllers are named', () => {
    const rdma = fake({ 'rdma.max': '' });
    const cls = fake({ 'net_cls.classid': '0' });
    const prio = fake({ 'net_prio.ifpriomap': '' });
    try {
      applyResources(v1Target({ rdma: rdma.dir }), { rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } } }, create);
      assert.deepEqual(rdma.writes, ['rdma.max=mlx5_1 hca_handle=3 hca_object=10000']);
      applyResources(
        v1Target({ net_cls: cls.dir, net_prio: prio.dir }),
        { network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 2 }] } },
        create,
      );
      assert.deepEqual(cls.writes, ['net_cls.classid=1048577']);
      assert.deepEqual(prio.writes, ['net_prio.ifpriomap=eth0 5', 'net_prio.ifpriomap=lo 2']);
      assert.throws(
        () => applyResources(v1Target({}), { network: { classID: 1 } }, create),
        /^UnsupportedError: linux\.resources\.network\.classID: the net_cls cgroup controller is not mounted on this host$/,
      );
      assert.throws(() => applyResources(v1Target({}), { rdma: { mlx5_1: { hcaHandles: 1 } } }, create), /linux\.resources\.rdma: the rdma cgroup controller/);
    } finally {
      rdma.cleanup();
      cls.cleanup();
      prio.cleanup();
    }
  });
});

describe('unified', () => {
  it('v2: written as given, last', () => {
    const f = fake(V2_FILES);
    try {
      applyResources(v2Target(f.dir), { pids: { limit: 3 }, unified: { 'memory.high': '1048576', 'pids.max': '4' } }, create);
      assert.deepEqual(f.writes, ['pids.max=3', 'memory.high=1048576', 'pids.max=4']);
      assert.throws(() => applyResources(v2Target(f.dir), { unified: { '../x.max': '1' } }, create), /not a cgroup v2 file name/);
    } finally {
      f.cleanup();
    }
  });

  it('hybrid: only keys of controllers in the unified hierarchy; pure v1: refused', () => {
    const u = fake({ 'cgroup.controllers': 'hugetlb', 'hugetlb.2MB.max': 'max', 'cgroup.max.depth': 'max' });
    try {
      assert.throws(
        () => applyResources(v1Target({}, u.dir), { unified: { 'memory.high': '1M' } }, create),
        /linux\.resources\.unified\["memory\.high"\]: the memory controller is not in the unified \(cgroup v2\) hierarchy of this hybrid host/,
      );
      applyResources(v1Target({}, u.dir), { unified: { 'hugetlb.2MB.max': '0', 'cgroup.max.depth': '3' } }, create);
      assert.deepEqual(u.writes, ['hugetlb.2MB.max=0', 'cgroup.max.depth=3']);
      assert.throws(
        () => applyResources(v1Target({}), { unified: { 'memory.high': '1M' } }, create),
        /linux\.resources\.unified\["memory\.high"\]: cgroup v2 keys cannot be applied on a cgroup v1 host/,
      );
    } finally {
      u.cleanup();
    }
  });
});

describe('device rules', () => {
  it('deny-all then allows: exceptions are the allows, merged', () => {
    const s = emulateDevices([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'm' },
      { allow: true, type: 'b', major: 8, access: 'r' },
    ]);
    assert.equal(s.defaultAllow, false);
    assert.deepEqual(s.exceptions.map(ruleLine), ['b 8:* r', 'c 1:3 rwm']);
  });

  it('starts from deny-all; "a" resets whatever its other fields; denies subtract', () => {
    assert.deepEqual(emulateDevices([]), { defaultAllow: false, exceptions: [] });
    const s = emulateDevices([
      { allow: true, type: 'c', major: 1, minor: 5 },
      { allow: true, type: 'a', major: 1, minor: 3, access: 'r' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
    ]);
    assert.equal(s.defaultAllow, true);
    assert.deepEqual(s.exceptions.map(ruleLine), ['c 1:3 w']);
    assert.ok(s.exceptions.every((e) => e.allow === false));
  });

  it('refuses punching a hole in a wildcard rule (the kernel would ignore it)', () => {
    assert.throws(
      () =>
        emulateDevices([
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: -1, minor: -1, access: 'rwm' },
          { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' },
        ]),
      /linux\.resources\.devices\[2\]: deny c 1:3 rwm cannot punch a hole in the earlier wildcard rule c \*:\* rwm/,
    );
  });

  it('validates fields', () => {
    assert.throws(() => emulateDevices([{ allow: true, type: 'x' as 'a' }]), /devices\[0\]\.type: "x" is not a, b or c/);
    assert.throws(() => emulateDevices([{ allow: true, type: 'c', access: 'rx' }]), /devices\[0\]\.access/);
  });

  it('runc defaults follow the spec rules, then linux.devices', () => {
    const rules = withDefaultDevices([{ allow: false, access: 'rwm' }], [{ type: 'c', major: 10, minor: 229 }]);
    const s = emulateDevices(rules);
    assert.ok(s.exceptions.some((e) => ruleLine(e) === 'c 1:3 rwm'));
    assert.ok(s.exceptions.some((e) => ruleLine(e) === 'c 10:229 rwm'));
    assert.ok(s.exceptions.some((e) => ruleLine(e) === 'b *:* m'));
  });

  it('eBPF program: prologue, one block per exception with forward jumps, default last', () => {
    const prog = deviceProgram(
      emulateDevices([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
        { allow: true, type: 'c', major: 136, access: 'rw' },
      ]),
    );
    // 6 prologue + (jne type, jne major, jne minor, mov, exit) + (jne type, mov/and/jne access, jne major, mov, exit) + 2
    assert.equal(prog.length, 6 + 5 + 7 + 2);
    const b1 = prog.slice(6, 11);
    assert.deepEqual(
      b1.map((i) => [i.code, i.dst, i.off, i.imm]),
      [
        [0x55, 2, 4, 2], // if type != CHAR goto next (4 ahead)
        [0x55, 4, 3, 1], // if major != 1
        [0x55, 5, 2, 5], // if minor != 5
        [0xb4, 0, 0, 1], // r0 = 1
        [0x95, 0, 0, 0],
      ],
    );
    const b2 = prog.slice(11, 18);
    assert.deepEqual(
      b2.map((i) => [i.code, i.dst, i.src, i.off, i.imm]),
      [
        [0x55, 2, 0, 6, 2],
        [0xbc, 1, 3, 0, 0], // r1 = r3
        [0x54, 1, 0, 0, 6], // r1 &= READ|WRITE
        [0x5d, 1, 3, 3, 0], // if r1 != r3 goto next
        [0x55, 4, 0, 2, 136],
        [0xb4, 0, 0, 0, 1],
        [0x95, 0, 0, 0, 0],
      ],
    );
    assert.deepEqual(prog.slice(-2).map((i) => [i.code, i.imm]), [
      [0xb4, 0],
      [0x95, 0],
    ]);
    const bytes = encodeProgram(prog);
    assert.equal(bytes.length, prog.length * 8);
    assert.equal(bytes[11 * 8 + 1 + 8], (3 << 4) | 1); // mov r1, r3: src in the high nibble
  });
});

describe('manager on a fake layout', () => {
  it('creates every hierarchy, records what it made, destroy removes exactly that', () => {
    const layout = fakeV1Layout([['cpu', 'cpuacct'], ['memory'], ['name=systemd']], true);
    const root = join(layout.v1[0]!.mount, '..');
    try {
      const m = new FsCgroupManager({ id: 'c1', cgroupsPath: '/mydocker-test-a/c1' }, { layout, host });
      assert.equal(m.paths.cpu, join(root, 'cpu,cpuacct/mydocker-test-a/c1'));
      assert.equal(m.paths.cpuacct, m.paths.cpu);
      assert.equal(m.paths.unified, join(root, 'unified/mydocker-test-a/c1'));
      m.create();
      const rec = m.record();
      assert.equal(rec.created!.length, 8);
      assert.deepEqual(m.procsFiles().length, 4);
      // A later process rebuilds the manager from the record.
      new FsCgroupManager(JSON.parse(JSON.stringify(rec)), { layout, host }).destroy();
      assert.deepEqual(dirsUnder(root), ['cpu,cpuacct', 'memory', 'name=systemd', 'unified']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('keeps a parent it did not create; removes its default parent when empty', () => {
    const layout = fakeV1Layout([['memory']]);
    const root = join(layout.v1[0]!.mount, '..');
    try {
      const m1 = new FsCgroupManager({ id: 'c1', cgroupsPath: '/mydocker-test-b/c1' }, { layout, host });
      m1.create();
      const m2 = new FsCgroupManager({ id: 'c2', cgroupsPath: '/mydocker-test-b/c2' }, { layout, host });
      m2.create();
      assert.deepEqual(m2.record().created, [join(layout.v1[0]!.mount, 'mydocker-test-b/c2')]);
      m1.destroy(); // its parent still holds c2: stays
      assert.deepEqual(dirsUnder(root), ['memory', 'memory/mydocker-test-b', 'memory/mydocker-test-b/c2']);
      m2.destroy(); // c2 did not create the parent: it stays (the creator tried while in use)
      assert.deepEqual(dirsUnder(root), ['memory', 'memory/mydocker-test-b']);

      const d = new FsCgroupManager({ id: 'mydocker-test-d' }, { layout, host });
      d.create();
      assert.ok(existsSync(join(layout.v1[0]!.mount, 'mydocker-runc/mydocker-test-d')));
      new FsCgroupManager({ id: 'mydocker-test-d' }, { layout, host }).destroy(); // without a record
      assert.ok(!existsSync(join(layout.v1[0]!.mount, 'mydocker-runc')));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a failing field leaves nothing behind', () => {
    const layout = fakeV1Layout([['memory'], ['pids']]);
    const root = join(layout.v1[0]!.mount, '..');
    try {
      const m = new FsCgroupManager({ id: 'c1', cgroupsPath: '/mydocker-test-c/x/c1' }, { layout, host });
      // The fake dirs have no files: the write of pids.max fails with ENOENT.
      assert.throws(() => m.create({ pids: { limit: 5 } }), /linux\.resources\.pids\.limit: write "5" to .*pids\.max: No such file or directory \(ENOENT\)/);
      assert.deepEqual(dirsUnder(root), ['memory', 'pids']);
      assert.throws(() => m.create({ network: { classID: 1 } }), /net_cls cgroup controller is not mounted/);
      assert.deepEqual(dirsUnder(root), ['memory', 'pids']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('create starts over when a concurrent destroy removes a shared parent under it', () => {
    const layout = fakeV1Layout([['memory'], ['pids']]);
    const root = join(layout.v1[0]!.mount, '..');
    try {
      const mem = layout.v1[0]!.mount;
      new FsCgroupManager({ id: 'other', cgroupsPath: '/mydocker-test-r/other' }, { layout, host }).create();
      let raced = 0;
      const m = new FsCgroupManager(
        { id: 'c', cgroupsPath: '/mydocker-test-r/c' },
        {
          layout,
          host,
          beforeMkdir: (dir) => {
            // The other container is destroyed (with the parent it made) just as we are
            // about to make our leaf below that parent: once per hierarchy.
            if (dir.endsWith('/mydocker-test-r/c') && raced < 2 && existsSync(join(dir, '..', 'other'))) {
              raced++;
              rmSync(join(dir, '..'), { recursive: true });
            }
          },
        },
      );
      m.create();
      assert.equal(raced, 2);
      assert.deepEqual(dirsUnder(root), ['memory', 'memory/mydocker-test-r', 'memory/mydocker-test-r/c', 'pids', 'pids/mydocker-test-r', 'pids/mydocker-test-r/c']);
      // It re-made the parents, so they are its own now.
      assert.ok(m.record().created!.includes(join(mem, 'mydocker-test-r')));
      m.destroy();
      assert.deepEqual(dirsUnder(root), ['memory', 'pids']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('systemd driver: create refuses, delete still works', () => {
    const layout = fakeV1Layout([['memory']]);
    const root = join(layout.v1[0]!.mount, '..');
    try {
      const m = new FsCgroupManager({ id: 'c', cgroupsPath: 'system.slice:docker:c', systemd: true }, { layout, host });
      assert.throws(() => m.create({}), /^UnsupportedError: --systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs$/);
      m.destroy();
      assert.deepEqual(m.pids(), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('relative paths resolve against the runtime own cgroup, and the record keeps them', () => {
    const layout = fakeV1Layout([['memory'], ['pids']], true);
    const root = join(layout.v1[0]!.mount, '..');
    try {
      const own = '5:memory:/a/b\n3:pids:/p\n0::/u/v\n';
      const m = new FsCgroupManager({ id: 'c', cgroupsPath: 'x/c' }, { layout, host, procSelfCgroup: own });
      assert.equal(m.paths.memory, join(layout.v1[0]!.mount, 'a/b/x/c'));
      assert.equal(m.paths.pids, join(layout.v1[1]!.mount, 'p/x/c'));
      assert.equal(m.paths.unified, join(root, 'unified/u/v/x/c')); // hybrid: v1 rules
      const again = new FsCgroupManager(m.record(), { layout, host, procSelfCgroup: '5:memory:/other\n' });
      assert.deepEqual(again.paths, m.paths);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('stats', () => {
  it('v2 files → runc events --stats', () => {
    const f = fake({
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 30\n',
      'memory.current': '4096',
      'memory.max': 'max',
      'memory.peak': '8192',
      'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
      'memory.stat': 'anon 4096\nfile 0\n',
      'memory.swap.current': '0',
      'memory.swap.max': 'max',
      'pids.current': '2',
      'pids.max': '5',
      'io.stat': '254:0 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
      'hugetlb.2MB.current': '0',
      'hugetlb.2MB.events': 'max 0\n',
    });
    try {
      const s = statsV2(f.dir, ['2MB']);
      const json = statsToJSON(s);
      assert.match(json, /^\{"cpu":\{"usage":\{"total":1500000,"kernel":500000,"user":1000000\}/);
      assert.match(json, /"memory":\{"usage":\{"limit":18446744073709551615,"usage":4096,"max":8192,"failcnt":3\},"swap":\{"limit":18446744073709551615,"usage":4096,"failcnt":0\}/);
      assert.deepEqual(JSON.parse(json.replaceAll('18446744073709551615', '-1')), {
        cpu: { usage: { total: 1500000, kernel: 500000, user: 1000000 }, throttling: { periods: 10, throttledPeriods: 2, throttledTime: 30000 } },
        cpuset: {
          cpu_exclusive: 0,
          mem_hardwall: 0,
          mem_exclusive: 0,
          memory_migrate: 0,
          memory_spread_page: 0,
          memory_spread_slab: 0,
          memory_pressure: 0,
          sched_load_balance: 0,
          sched_relax_domain_level: 0,
        },
        memory: {
          usage: { limit: -1, usage: 4096, max: 8192, failcnt: 3 },
          swap: { limit: -1, usage: 4096, failcnt: 0 },
          kernel: { limit: 0, failcnt: 0 },
          kernelTCP: { limit: 0, failcnt: 0 },
          raw: { anon: 4096, file: 0 },
        },
        pids: { current: 2, limit: 5 },
        blkio: {
          ioServiceBytesRecursive: [{ major: 254, op: 'Read', value: 512 }, { major: 254, op: 'Write' }],
          ioServicedRecursive: [{ major: 254, op: 'Read', value: 1 }, { major: 254, op: 'Write' }],
        },
        hugetlb: { '2MB': { failcnt: 0 } },
        intel_rdt: {},
        network_interfaces: null,
      });
    } finally {
      f.cleanup();
    }
  });

  it('v1 files → the same shape, unlimited values exact', () => {
    const mem = fake({
      'memory.usage_in_bytes': '8192',
      'memory.max_usage_in_bytes': '16384',
      'memory.failcnt': '0',
      'memory.limit_in_bytes': '9223372036854771712',
      'memory.stat': 'cache 4096\nrss 4096\n',
    });
    const acct = fake({ 'cpuacct.usage': '12345', 'cpuacct.usage_percpu': '12000 345 ', 'cpuacct.stat': 'user 2\nsystem 1\n' });
    const pids = fake({ 'pids.current': '1', 'pids.max': 'max' });
    try {
      const s = statsV1((c) => ({ memory: mem.dir, cpuacct: acct.dir, pids: pids.dir })[c], undefined, []);
      assert.deepEqual(JSON.parse(statsToJSON(s.cpu.usage)), { total: 12345, percpu: [12000, 345], user: 20_000_000, kernel: 10_000_000 });
      assert.deepEqual(JSON.parse(statsToJSON(s.pids)), { current: 1 });
      assert.equal(s.memory.cache, 4096);
      assert.match(statsToJSON(s.memory.usage), /^\{"limit":9223372036854771712,"usage":8192,"max":16384,"failcnt":0\}$/);
    } finally {
      mem.cleanup();
      acct.cleanup();
      pids.cleanup();
    }
  });
});
