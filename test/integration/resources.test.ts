// linux.resources end to end, through the CLI: limits the kernel enforces on the container's
// own process (our Node init must not count against them), pause/resume, update, events.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, cleanEnv, haveRunc, OURS, ROOTFS, RUNC, Sandbox, uniqueId, waitFor, withSandbox } from '../helpers/runtime.js';

/** The container's directory in a v1 controller or the v2 hierarchy (from the init's /proc/<pid>/cgroup). */
function cgroupDir(pid: number, controller: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]!.split(',').includes(controller));
  if (v1) return `/sys/fs/cgroup/${controller}${v1.split(':')[2]}`;
  const v2 = lines.find((l) => l.startsWith('0::'))!;
  return `/sys/fs/cgroup${v2.slice(3)}`;
}

function read(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

describe('resources', () => {
  it('echo hi runs under a 512 KiB memory limit and pids.limit 1', withSandbox(OURS, (sb) => {
    // busybox's pages in the page cache first (charged to us, not the container): what is
    // measured is what the runtime costs the container, not the static busybox's ~1 MiB of
    // text read back in after memory pressure evicted it (seen in the cgroup v2 VM).
    readFileSync(join(ROOTFS, 'bin/busybox'));
    const config = baseConfig(['echo', 'hi']);
    config.linux.resources.memory = { limit: 512 * 1024 };
    config.linux.resources.pids = { limit: 1 };
    const r = sb.run(['run', '-b', sb.bundle(config), sb.track(uniqueId('floor'))]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  }));

  // Deprecated by the runtime-spec and ignored by Linux 5.16+; configs of containerd, docker and
  // older tools still carry them: warned about once, the container runs (runc does the same).
  for (const runtime of [RUNC, OURS]) {
    it(`memory.kernel and kernelTCP are warned about and ignored (${runtime.name})`, { skip: runtime === RUNC && !haveRunc() && 'runc is not installed' }, withSandbox(runtime, (sb) => {
      const config = baseConfig(['echo', 'hi']);
      config.linux.resources.memory = { limit: 64 << 20, kernel: 32 << 20, kernelTCP: 16 << 20 };
      const r = sb.run(['run', '-b', sb.bundle(config), sb.track(uniqueId('kmem'))]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, runtime === OURS ? /warning: linux\.resources\.memory\.kernel\/kernelTCP: .*ignored/ : /Kernel memory settings are ignored/);
    }));
  }

  // The exec'd process is the only thing of ours that joins the container's cgroup: the native
  // init forks it into the cgroup single-threaded (a Node helper's threads used to count).
  it('exec works under pids.limit 2 with the init running: only the new process counts', withSandbox(OURS, (sb) => {
    const config = baseConfig(['sleep', '1000']);
    config.linux.resources.pids = { limit: 2 };
    const id = sb.track(uniqueId('execpids'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(config), id], { detached: true }).status, 0);
    const r = sb.run(['exec', id, 'echo', 'hi']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  }));

  it('pids.limit 5 stops a fork bomb at 5', withSandbox(OURS, (sb) => {
    const config = baseConfig(['sleep', '1000']);
    config.linux.resources.pids = { limit: 5 };
    const id = sb.track(uniqueId('forkbomb'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(config), id], { detached: true }).status, 0);
    const dir = cgroupDir(sb.state(id).pid, 'pids');
    // sleep 1000 (1) + the exec'd shell (2) + three sleeps (5): the fourth fork fails.
    const bomb = sb.run(['exec', id, 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 30 >/dev/null 2>&1 & done; wait']);
    assert.notEqual(bomb.status, 0);
    assert.match(bomb.stderr, /can't fork|Resource temporarily unavailable/);
    assert.equal(read(join(dir, 'pids.max')), '5');
    assert.equal(Number(read(join(dir, 'pids.current'))), 4, 'the shell is gone, its three sleeps stay');
  }));

  it('a memory hog over 16 MiB is OOM-killed and events reports the OOM', withSandbox(OURS, async (sb) => {
    // The hog waits for /tmp/go, so that the events stream is watching before it allocates.
    const config = baseConfig(['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.05; done; x=a; while :; do x="$x$x"; done']);
    config.linux.resources.memory = { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 };
    const id = sb.track(uniqueId('oom'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(config), id], { detached: true }).status, 0);
    const [cmd, ...pre] = OURS.argv;
    // A stats line every 200 ms: the first one says the stream (and its OOM watch, set up
    // before its timer can fire) is running, however slow this machine is.
    const events = spawn(cmd!, [...pre, '--root', sb.root, 'events', '--interval', '200ms', id], { env: cleanEnv() });
    let out = '';
    events.stdout.on('data', (d) => (out += d));
    const ended = new Promise((r) => events.on('exit', r));
    await waitFor(() => out.includes('"type":"stats"'), 30_000, 'the events stream to start');
    assert.equal(sb.run(['exec', id, 'touch', '/tmp/go']).status, 0);
    await waitFor(() => out.includes('"type":"oom"'), 30_000, 'an oom event');
    await waitFor(() => sb.state(id)?.status === 'stopped', 30_000, 'the container to stop');
    await ended;
    assert.match(out, new RegExp(`\\{"type":"oom","id":"${id}"`));
  }));

  it('cpu and cpuset values reach the kernel; update changes the live memory limit', withSandbox(OURS, (sb) => {
    const config = baseConfig(['sleep', '1000']);
    config.linux.resources.cpu = { shares: 512, quota: 50_000, period: 100_000, cpus: '0', mems: '0' };
    config.linux.resources.memory = { limit: 64 * 1024 * 1024 };
    const id = sb.track(uniqueId('cpu'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(config), id], { detached: true }).status, 0);
    const pid = sb.state(id).pid;
    const cpu = cgroupDir(pid, 'cpu');
    if (cpu.includes('/cpu/')) {
      assert.equal(read(join(cpu, 'cpu.shares')), '512');
      assert.equal(read(join(cpu, 'cpu.cfs_quota_us')), '50000');
      assert.equal(read(join(cpu, 'cpu.cfs_period_us')), '100000');
      assert.equal(read(join(cgroupDir(pid, 'cpuset'), 'cpuset.cpus')), '0');
      const mem = cgroupDir(pid, 'memory');
      assert.equal(read(join(mem, 'memory.limit_in_bytes')), String(64 * 1024 * 1024));
      assert.equal(sb.run(['update', '--memory', '32m', id]).status, 0);
      assert.equal(read(join(mem, 'memory.limit_in_bytes')), String(32 * 1024 * 1024));
    } else {
      assert.equal(read(join(cpu, 'cpu.max')), '50000 100000');
      assert.equal(read(join(cpu, 'cpuset.cpus')), '0');
      assert.equal(read(join(cpu, 'memory.max')), String(64 * 1024 * 1024));
      assert.equal(sb.run(['update', '--memory', '32m', id]).status, 0);
      assert.equal(read(join(cpu, 'memory.max')), String(32 * 1024 * 1024));
    }
  }));

  it('pause freezes every process, resume continues them', withSandbox(OURS, async (sb) => {
    const config = baseConfig(['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; done']);
    const id = sb.track(uniqueId('pause'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(config), id], { detached: true }).status, 0);
    const pid = sb.state(id).pid;
    const count = () => Number(readFileSync(`/proc/${pid}/root/tmp/count`, 'utf8') || 0);
    await waitFor(() => count() > 0, 10_000, 'the counter to start');
    assert.equal(sb.run(['pause', id]).status, 0);
    assert.equal(sb.state(id).status, 'paused');
    const frozenAt = count();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(count(), frozenAt, 'the counter stands still while paused');
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\s+[SD]/);
    const exec = sb.run(['exec', id, 'true']);
    assert.equal(exec.status, 255);
    assert.match(exec.stderr, /paused/);
    assert.equal(sb.run(['resume', id]).status, 0);
    assert.equal(sb.state(id).status, 'running');
    await waitFor(() => count() > frozenAt, 10_000, 'the counter to move again');
    // A paused container can still be killed and deleted.
    assert.equal(sb.run(['pause', id]).status, 0);
    assert.equal(sb.run(['delete', '--force', id]).status, 0);
  }));

  it('events --stats shows memory usage and pids', withSandbox(OURS, (sb) => {
    const id = sb.track(uniqueId('stats'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
    const r = sb.run(['events', '--stats', id]);
    assert.equal(r.status, 0, r.stderr);
    const ev = JSON.parse(r.stdout);
    assert.equal(ev.type, 'stats');
    assert.ok(ev.data.memory.usage.usage > 0);
    assert.ok(ev.data.pids.current >= 1);
  }));

  it('a limit the host cannot apply fails create with one line and leaves nothing', withSandbox(OURS, (sb) => {
    for (const [resources, pattern] of [
      [{ hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }, /hugepageLimits/],
      [{ network: { classID: 42 } }, /network/],
      [{ memory: { limit: 64 * 1024 * 1024, swap: 32 * 1024 * 1024 } }, /memory\.swap/],
    ] as const) {
      const config = baseConfig(['true']);
      Object.assign(config.linux.resources, resources);
      const id = sb.track(uniqueId('refused'));
      const r = sb.run(['create', '-b', sb.bundle(config), id], { detached: true });
      assert.equal(r.status, 1, JSON.stringify(resources));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(sb.state(id), null);
    }
  }));
});
