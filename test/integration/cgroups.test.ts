// cgroups on the real kernel: this host's layout (v1 hybrid here; pure v2 in
// `make test-cgroup2`, which runs this same file in a cgroup2 VM). Real processes are put
// in real cgroups and the kernel's files are read back. Every test kills its processes and
// removes its cgroups in `finally`, and checks that nothing named after it is left in any
// hierarchy.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CgroupDir, isVanished } from '../../src/cgroups/dir.js';
import { cgroupManager, type CgroupManager, detectLayout, statsToJSON } from '../../src/cgroups/index.js';
import { oomKillCount, watchOom } from '../../src/cgroups/oom.js';
import { applyDevicesV2, encodeProgram, loadDeviceProgram } from '../../src/cgroups/v2/devices.js';
import { BPF_PROG_TYPE_CGROUP_DEVICE, bpfProgLoad } from '../../src/kernel/bpf.js';
import type { LinuxDeviceCgroup, LinuxResources } from '../../src/spec/generated/types.js';
import { cgName, killWait, leftovers, mounts, sleep, spawnWaiting, until, type Waiting } from '../helpers/cgroups.js';

const layout = detectLayout();
const V2 = layout.kind === 'v2';
const MEM = V2 ? 'unified' : 'memory';
const PIDS = V2 ? 'unified' : 'pids';

/** The first real block device's "major:minor" (not loop/ram/zram), if any. */
function blockDevice(): { major: number; minor: number } | undefined {
  for (const name of readdirSync('/sys/block')) {
    if (/^(loop|ram|zram)/.test(name)) continue;
    const m = /^(\d+):(\d+)$/.exec(readFileSync(`/sys/block/${name}/dev`, 'utf8').trim());
    if (m) return { major: Number(m[1]), minor: Number(m[2]) };
  }
  return undefined;
}

function rd(m: CgroupManager, key: string, file: string): string {
  return readFileSync(join(m.paths[key]!, file), 'utf8').trim();
}

/**
 * Run `fn` with a fresh manager at /<top>/c; afterwards kill `procs`, destroy, and check
 * no directory named <top> is left in any hierarchy.
 */
async function withCgroup(
  tag: string,
  resources: LinuxResources | undefined,
  fn: (m: CgroupManager, procs: Waiting[]) => Promise<void> | void,
): Promise<void> {
  const top = cgName(tag);
  const m = cgroupManager({ id: top, cgroupsPath: `/${top}/c` });
  const procs: Waiting[] = [];
  try {
    m.create(resources);
    await fn(m, procs);
  } finally {
    try {
      m.signalAll(9);
    } catch {
      /* gone */
    }
    for (const p of procs) await killWait(p);
    await until(() => m.pids().length === 0, 5000);
    m.destroy();
    assert.deepEqual(leftovers(top), [], 'every cgroup the test made is gone');
  }
}

/** A process joined to `m` that then runs `script`. */
function start(m: CgroupManager, procs: Waiting[], script: string): Waiting {
  const w = spawnWaiting(script);
  procs.push(w);
  m.join(w.pid);
  w.go();
  return w;
}

/**
 * A proportional block I/O weight needs CFQ or BFQ: a v1 kernel whose block devices all run
 * none/mq-deadline/kyber has neither blkio.weight nor blkio.bfq.weight, and the runtime then
 * refuses a weight by name (checked in "refuses ..."); ask for one only where the host has it.
 */
function blkioWeighs(): boolean {
  const root = V2 ? undefined : layout.v1.find((h) => h.controllers.includes('blkio'))?.mount;
  return !!root && ['blkio.weight', 'blkio.bfq.weight'].some((f) => existsSync(join(root, f)));
}

const procCgroup = (pid: number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8');

describe(`cgroups on this host (${layout.kind})`, () => {
  after(() => {
    // The whole suite: no test cgroup of ours anywhere.
    for (const m of mounts()) {
      const ours = readdirSync(m).filter((n) => n.startsWith(`mydocker-test-`) && n.endsWith(`-${process.pid}`));
      assert.deepEqual(ours, [], `leftovers in ${m}`);
    }
  });

  it('applies limits, joins a process to every hierarchy, lists it, removes everything', async () => {
    const dev = blockDevice();
    const weighs = blkioWeighs();
    const r: LinuxResources = {
      memory: { limit: 64 << 20, reservation: 32 << 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 20 },
      blockIO: dev
        ? { throttleReadBpsDevice: [{ ...dev, rate: 1 << 20 }], throttleWriteIOPSDevice: [{ ...dev, rate: 100 }], ...(weighs ? { weight: 500 } : {}) }
        : undefined,
    };
    await withCgroup('limits', r, async (m, procs) => {
      if (V2) {
        assert.deepEqual(Object.keys(m.paths), ['unified']);
        assert.equal(rd(m, 'unified', 'memory.max'), String(64 << 20));
        assert.equal(rd(m, 'unified', 'memory.low'), String(32 << 20));
        assert.equal(rd(m, 'unified', 'cpu.weight'), '20'); // 1 + (510 * 9999) / 262142
        assert.equal(rd(m, 'unified', 'cpu.max'), '50000 100000');
        assert.equal(rd(m, 'unified', 'cpuset.cpus'), '0');
        assert.equal(rd(m, 'unified', 'pids.max'), '20');
        if (dev) {
          assert.match(rd(m, 'unified', 'io.max'), new RegExp(`^${dev.major}:${dev.minor} rbps=1048576 wbps=max riops=max wiops=100$`));
        }
      } else {
        assert.equal(rd(m, 'memory', 'memory.limit_in_bytes'), String(64 << 20));
        assert.equal(rd(m, 'memory', 'memory.soft_limit_in_bytes'), String(32 << 20));
        assert.equal(rd(m, 'cpu', 'cpu.shares'), '512');
        assert.equal(rd(m, 'cpu', 'cpu.cfs_quota_us'), '50000');
        assert.equal(rd(m, 'cpu', 'cpu.cfs_period_us'), '100000');
        assert.equal(rd(m, 'cpuset', 'cpuset.cpus'), '0');
        assert.equal(rd(m, 'cpuset', 'cpuset.mems'), '0');
        assert.equal(rd(m, 'pids', 'pids.max'), '20');
        if (dev) {
          assert.equal(rd(m, 'blkio', 'blkio.throttle.read_bps_device'), `${dev.major}:${dev.minor} 1048576`);
          assert.equal(rd(m, 'blkio', 'blkio.throttle.write_iops_device'), `${dev.major}:${dev.minor} 100`);
          if (weighs) {
            const wf = existsSync(join(m.paths.blkio!, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
            assert.match(rd(m, 'blkio', wf), /^(default )?500$/);
          }
        }
      }
      const w = start(m, procs, 'exec sleep 30');
      const inner = m.paths[V2 ? 'unified' : 'memory']!.slice((V2 ? layout.unified! : layout.v1.find((h) => h.controllers.includes('memory'))!.mount).length);
      const lines = procCgroup(w.pid).trim().split('\n');
      if (V2) {
        assert.deepEqual(lines, [`0::${inner}`]);
      } else {
        // Every v1 hierarchy and (hybrid) the unified one: what the containerd shim reads.
        assert.equal(lines.length, layout.v1.length + (layout.unified ? 1 : 0));
        for (const l of lines) assert.ok(l.endsWith(`:${inner}`), l);
        if (layout.unified) assert.ok(lines.includes(`0::${inner}`));
      }
      assert.deepEqual(m.pids(), [w.pid]);
      assert.equal(m.procsFiles().length, new Set(Object.values(m.paths)).size);
    });
  });

  it('freezes and thaws: a counting loop stops, then goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mydocker-test-freeze-'));
    const file = join(dir, 'n');
    try {
      await withCgroup('freeze', undefined, async (m, procs) => {
        const w = start(m, procs, `i=0; while :; do i=$((i+1)); echo $i > ${file}; done`);
        const read = () => (existsSync(file) ? readFileSync(file, 'utf8') : '');
        assert.ok(await until(() => Number(read()) > 10), 'the loop runs');
        m.freeze();
        assert.equal(m.isFrozen(), true);
        const a = read();
        await sleep(300);
        assert.equal(read(), a, 'no progress while frozen');
        const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${w.pid}/status`, 'utf8'))?.[1];
        assert.ok(state === 'D' || state === 'S', `frozen task state ${state}`);
        m.thaw();
        assert.equal(m.isFrozen(), false);
        assert.ok(await until(() => read() !== a && Number(read()) > Number(a)), 'progress after thaw');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('OOM: a memory hog under a 16 MiB limit is killed, and the OOM is reported', async () => {
    await withCgroup('oom', { memory: { limit: 16 << 20 } }, async (m, procs) => {
      assert.equal(oomKillCount(m), 0);
      let events = 0;
      const watch = watchOom(m, () => events++, { intervalMs: 100 });
      try {
        const w = start(m, procs, 'x=a; while :; do x="$x$x"; done');
        const [code, sig] = await w.exited;
        assert.equal(code, null);
        assert.equal(sig, 'SIGKILL');
        assert.ok(await until(() => events > 0, 3000), 'watchOom reported it');
        assert.ok(oomKillCount(m) >= 1, `oom_kill count ${oomKillCount(m)}`);
      } finally {
        watch.stop();
      }
    });
  });

  it('pids.limit 5 holds a fork bomb, and signalAll(SIGKILL) ends all of it', async () => {
    await withCgroup('forkbomb', { pids: { limit: 5 } }, async (m, procs) => {
      // Two sleepers that outlive the bomb (shells exit when a fork fails), then the bomb.
      start(m, procs, 'sleep 100 & sleep 100 & f() { f | f & }; f; while :; do f; done');
      // Sample until the bomb has been refused a fork with the cgroup full (a slow VM may take
      // well over a second to get there), and for a little while after: never more than 5.
      let peak = 0;
      let refusedAt = 0;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (!refusedAt || Date.now() < refusedAt + 500)) {
        peak = Math.max(peak, Number(rd(m, PIDS, 'pids.current')));
        if (!refusedAt && peak >= 3 && /max [1-9]/.test(rd(m, PIDS, 'pids.events'))) refusedAt = Date.now();
        await sleep(5);
      }
      assert.ok(peak <= 5 && peak >= 3, `pids.current peaked at ${peak}`);
      assert.match(rd(m, PIDS, 'pids.events'), /max [1-9]/, 'forks were refused');
      assert.ok(m.pids().length >= 2, 'the sleepers are still there');
      m.signalAll(9);
      assert.ok(await until(() => m.pids().length === 0, 5000), `left: ${m.pids()}`);
    });
  });

  it('signalAll(SIGTERM) reaches every process (freeze, signal, thaw); SIGKILL reaches a paused one', async () => {
    await withCgroup('signal', undefined, async (m, procs) => {
      start(m, procs, 'sleep 100 & sleep 100 & sleep 100 & wait');
      assert.ok(await until(() => m.pids().length === 4), `pids ${m.pids()}`);
      m.signalAll(15);
      assert.ok(await until(() => m.pids().length === 0, 5000), `left: ${m.pids()}`);
      assert.equal(m.isFrozen(), false);

      const w = start(m, procs, 'sleep 100 & wait');
      assert.ok(await until(() => m.pids().length === 2));
      m.freeze();
      m.signalAll(9);
      assert.ok(await until(() => m.pids().length === 0, 5000), `paused: left ${m.pids()}`);
      assert.equal((await w.exited)[1], 'SIGKILL');
    });
  });

  it('update changes live limits; checkBeforeUpdate refuses one below usage', async () => {
    await withCgroup('update', { memory: { limit: 64 << 20 }, pids: { limit: 10 } }, async (m, procs) => {
      start(m, procs, `x=a; i=0; while [ $i -lt 22 ]; do x="$x$x"; i=$((i+1)); done; echo ready; sleep 100; echo done`); // 4 MiB in the shell (sleep not last: ash would exec it in place)
      await until(() => procs[0]!.stdout().includes('ready'));
      m.update({ memory: { limit: 48 << 20 }, pids: { limit: 30 }, cpu: { quota: 20000, period: 100000 } });
      if (V2) {
        assert.equal(rd(m, 'unified', 'memory.max'), String(48 << 20));
        assert.equal(rd(m, 'unified', 'pids.max'), '30');
        assert.equal(rd(m, 'unified', 'cpu.max'), '20000 100000');
      } else {
        assert.equal(rd(m, 'memory', 'memory.limit_in_bytes'), String(48 << 20));
        assert.equal(rd(m, 'pids', 'pids.max'), '30');
        assert.equal(rd(m, 'cpu', 'cpu.cfs_quota_us'), '20000');
      }
      assert.throws(
        () => m.update({ memory: { limit: 1 << 20, checkBeforeUpdate: true } }),
        /linux\.resources\.memory\.limit: rejecting memory limit 1048576 below current usage \d+ \(checkBeforeUpdate\)/,
      );
    });
  });

  it('stats: memory usage > 0, pids.current >= 1, in runc events --stats shape', async () => {
    await withCgroup('stats', { pids: { limit: 50 } }, async (m, procs) => {
      start(m, procs, `x=a; i=0; while [ $i -lt 22 ]; do x="$x$x"; i=$((i+1)); done; echo ready; sleep 100; echo done`);
      await until(() => procs[0]!.stdout().includes('ready'));
      const s = JSON.parse(statsToJSON(m.stats()));
      assert.ok(s.memory.usage.usage > 0, `memory usage ${JSON.stringify(s.memory.usage)}`);
      assert.ok(s.pids.current >= 1);
      assert.equal(s.pids.limit, 50);
      assert.ok(s.cpu.usage.total > 0, 'cpu time used');
      for (const k of ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']) assert.ok(k in s, k);
    });
  });

  it('a busybox `echo hi` runs with memory.limit 512 KiB and pids.limit 1 (joined just before exec)', async () => {
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find(existsSync);
    if (!busybox) return;
    await withCgroup('floor', { memory: { limit: 512 << 10 }, pids: { limit: 1 } }, async (m, procs) => {
      // Like the init: the process writes its own pid into every cgroup.procs, then execs.
      const files = m.procsFiles().join(' ');
      const w = spawnWaiting(`for f in ${files}; do echo $$ > "$f" || exit 9; done; exec ${busybox} echo hi`);
      procs.push(w);
      w.go();
      const [code] = await w.exited;
      assert.equal(code, 0);
      assert.equal(w.stdout(), 'hi\n');
    });
  });

  it('what the host cannot apply fails with the field named, and leaves no directory', async () => {
    const cases: [string, LinuxResources, RegExp][] = [
      ['network', { network: { classID: 0x100001 } }, /^UnsupportedError: linux\.resources\.network\.classID: /],
      ['hugepage', { hugepageLimits: [{ pageSize: '3MB', limit: 1 << 20 }] }, /linux\.resources\.hugepageLimits\[0\]\.pageSize: huge page size "3MB" does not exist on this host/],
      ['rdma', { rdma: { mydocker0: { hcaHandles: 1 } } }, /linux\.resources\.rdma/],
      ['rt', { cpu: { realtimeRuntime: 10_000_000, realtimePeriod: 1_000_000 } }, /linux\.resources\.cpu\.realtime/],
      ['swap', { memory: { limit: 2 << 20, swap: 1 << 20 } }, /^ConfigError: linux\.resources\.memory\.swap: /],
      ['devices', { devices: [{ allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }] }, /linux\.resources\.devices\[1\]: .*punch a hole/],
      // After a good field: what create() already wrote goes away with the directory.
      ['late', { pids: { limit: 5 }, memory: { limit: 4 << 20 }, hugepageLimits: [{ pageSize: '5MB', limit: 1 }] }, /pageSize: huge page size "5MB"/],
    ];
    if (!V2 && !blkioWeighs()) cases.push(['weight', { blockIO: { weight: 500 } }, /^UnsupportedError: linux\.resources\.blockIO\.weight: this kernel has no block I\/O weights/]);
    if (!V2) cases.push(['unified', { unified: { 'memory.high': '1048576' } }, /linux\.resources\.unified\["memory\.high"\]: .*(hybrid host|cgroup v1 host)/]);
    for (const [tag, r, re] of cases) {
      const top = cgName(`refuse-${tag}`);
      const m = cgroupManager({ id: top, cgroupsPath: `/${top}/c` });
      try {
        assert.throws(() => m.create(r), (e: Error) => {
          assert.match(`${e.name}: ${e.message}`, re);
          return true;
        });
        assert.deepEqual(leftovers(top), [], `${tag}: nothing left`);
      } finally {
        m.destroy();
      }
    }
    const sd = cgroupManager({ id: 'x', cgroupsPath: 'system.slice:mydocker:x', systemd: true });
    assert.throws(() => sd.create({}), /--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs/);
  });

  if (V2) {
    it('v2: unified keys are written as given; SIGKILL goes through cgroup.kill', async () => {
      await withCgroup('unified', { unified: { 'memory.high': String(32 << 20), 'pids.max': '7' } }, async (m, procs) => {
        assert.equal(rd(m, 'unified', 'memory.high'), String(32 << 20));
        assert.equal(rd(m, 'unified', 'pids.max'), '7');
        assert.ok(existsSync(join(m.paths.unified!, 'cgroup.kill')));
        const w = start(m, procs, 'sleep 100 & sleep 100 & wait');
        await until(() => m.pids().length === 3);
        m.signalAll(9);
        assert.equal((await w.exited)[1], 'SIGKILL');
        assert.ok(await until(() => m.pids().length === 0));
      });
    });
  }

  const deviceScript =
    'if head -c 4 /dev/zero | wc -c | grep -q 4; then echo zero-ok; fi; ' +
    '(exec 3</dev/null) 2>/dev/zero && echo null-ok || echo null-denied';
  const onlyZero: LinuxDeviceCgroup[] = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  ];

  it(`devices (${V2 ? 'eBPF program' : 'v1 devices.allow/deny'}): /dev/zero opens, /dev/null is denied`, async () => {
    // A program the verifier rejects says why (a bare exit returns an unset R0).
    assert.throws(
      () => bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, encodeProgram([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]), 'Apache'),
      /^KernelError: bpf\(BPF_PROG_LOAD\) \(verifier: .*R0 .*\): Permission denied \(EACCES\)$/,
    );
    await withCgroup('devices', { devices: onlyZero }, async (m, procs) => {
      if (!V2) assert.equal(rd(m, 'devices', 'devices.list'), 'c 1:5 rwm');
      const w = start(m, procs, deviceScript);
      await w.exited;
      assert.match(w.stdout(), /zero-ok\n/);
      assert.match(w.stdout(), /null-denied\n/);
      assert.doesNotMatch(w.stdout(), /null-ok/);
      // update with an allow-all list: the new rules replace the old ones.
      m.update({ devices: [{ allow: true, access: 'rwm' }] });
      const w2 = start(m, procs, deviceScript);
      await w2.exited;
      assert.match(w2.stdout(), /zero-ok\nnull-ok\n/);
    });
  });

  if (!V2 && layout.unified) {
    it('the eBPF device program also works on this hybrid host (attached to the unified hierarchy)', async () => {
      assert.ok(loadDeviceProgram(onlyZero) > 0, 'the verifier accepts the program');
      await withCgroup('bpf', undefined, async (m, procs) => {
        const u = new CgroupDir(m.paths.unified!);
        applyDevicesV2(u, onlyZero);
        const w = start(m, procs, deviceScript);
        await w.exited;
        assert.match(w.stdout(), /zero-ok\nnull-denied\n/);
        applyDevicesV2(u, [{ allow: true, access: 'rwm' }]); // replaces, not adds
        const w2 = start(m, procs, deviceScript);
        await w2.exited;
        assert.match(w2.stdout(), /zero-ok\nnull-ok\n/);
      });
    });
  }

  it('paths: the default parent; a parent we did not make stays; a busy existing cgroup is refused', async () => {
    const id = cgName('default');
    const d = cgroupManager({ id });
    try {
      d.create();
      for (const p of Object.values(d.paths)) assert.ok(p.endsWith(`/mydocker-runc/${id}`) && existsSync(p), p);
    } finally {
      d.destroy();
    }
    for (const p of Object.values(d.paths)) assert.ok(!existsSync(p), `${p} removed`);

    const top = cgName('parent');
    const parents = mounts().map((mnt) => join(mnt, top));
    try {
      for (const p of parents) mkdirSync(p);
      await withCgroup('unused', undefined, () => {}); // (a sibling test dir, fully removed)
      const m = cgroupManager({ id: 'c', cgroupsPath: `/${top}/c` });
      const procs: Waiting[] = [];
      try {
        m.create();
        assert.deepEqual(m.record().created!.length, new Set(Object.values(m.paths)).size, 'only the leaves were made');
        start(m, procs, 'exec sleep 100');
        const other = cgroupManager({ id: 'c2', cgroupsPath: `/${top}/c` });
        assert.throws(() => other.create(), /already exists and has 1 process\(es\) in it; refusing to use it/);
      } finally {
        m.signalAll(9);
        for (const p of procs) await killWait(p);
        m.destroy();
      }
      for (const p of parents) {
        const sub = readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory());
        assert.deepEqual(sub, [], `${p} kept, without children`);
      }
    } finally {
      for (const p of parents) if (existsSync(p)) rmdirSync(p);
    }
  });

  it('a cgroup removed between open and read fails with ENODEV, which create treats as "vanished"', () => {
    // What a sibling's destroy does to us mid-read of a shared parent's file (CI saw it once
    // in the race below): kernfs deactivates the open file, and read(2) says ENODEV, not ENOENT.
    const dir = join(mounts()[0]!, cgName('vanish'));
    mkdirSync(dir);
    const fd = openSync(join(dir, 'cgroup.procs'), 'r');
    try {
      rmdirSync(dir);
      let err: unknown;
      try {
        readSync(fd, Buffer.alloc(64));
      } catch (e) {
        err = e;
      }
      assert.equal((err as NodeJS.ErrnoException | undefined)?.code, 'ENODEV');
      assert.ok(isVanished(err));
      assert.ok(isVanished(Object.assign(new Error('gone'), { code: 'ENOENT' })));
      assert.ok(!isVanished(Object.assign(new Error('busy'), { code: 'EBUSY' })));
    } finally {
      closeSync(fd);
      if (existsSync(dir)) rmdirSync(dir);
    }
  });

  it('create is robust to a concurrent destroy of a shared parent', (t) => {
    const top = cgName('race');
    const index = fileURLToPath(new URL('../../src/cgroups/index.js', import.meta.url));
    const fsm = fileURLToPath(new URL('../../src/cgroups/fs-manager.js', import.meta.url));
    const loop = (leaf: string) => `
      import { cgroupManager } from ${JSON.stringify(index)};
      import { stats } from ${JSON.stringify(fsm)};
      for (let i = 0; i < 200; i++) {
        const m = cgroupManager({ id: ${JSON.stringify(leaf)}, cgroupsPath: ${JSON.stringify(`/${top}/${leaf}`)} });
        m.create();
        m.destroy();
      }
      console.log('retries=' + stats.createRetries);`;
    try {
      // Two processes, siblings under one parent that either may create and remove.
      const script = `
        const { spawn } = await import('node:child_process');
        const run = (src) => new Promise((res) => {
          const c = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'inherit', 'inherit'] });
          c.on('exit', (code) => res(code));
        });
        const codes = await Promise.all([run(${JSON.stringify(loop('a'))}), run(${JSON.stringify(loop('b'))})]);
        process.exit(codes.every((c) => c === 0) ? 0 : 1);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      t.diagnostic(`create retries after a parent vanished: ${r.stdout.trim().replace(/\n/g, ', ')}`);
      for (const p of leftovers(top)) {
        // The parent stays when its creator was destroyed while the sibling was still in it:
        // no one else may remove it (it is not theirs). Only the leaves must be gone.
        assert.deepEqual(readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory()), [], `${p} has no leaves`);
      }
    } finally {
      for (const p of leftovers(top)) rmdirSync(p);
    }
  });
});
