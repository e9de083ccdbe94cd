// `update` (a container's resources and restart policy, live and for the next starts) and
// `diff` (its filesystem changes), with podman running the same scenario as the control.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cgroupsOf, havePodman, Podman, withMydocker, type MydockerSandbox } from '../helpers/mydocker.js';

/** A cgroup file of the container, in whichever hierarchy has it. */
function cgroupFile(md: MydockerSandbox, name: string, file: string): string | undefined {
  const id = md.ok(['inspect', '--format', '{{.Id}}', name]).trim();
  for (const d of cgroupsOf([id])) if (existsSync(join(d, file))) return readFileSync(join(d, file), 'utf8').trim();
  return undefined;
}

const CHANGES = 'echo x > /etc/new; echo y >> /etc/passwd; rm /bin/ls; mkdir -p /tmp/a/b; touch /tmp/a/b/c; rm -rf /home; mkdir /home; touch /home/z';

describe('mydocker diff', () => {
  it('lists added, changed and deleted paths as podman does', withMydocker((md) => {
    md.ok(['run', '--name', 'd1', '--network', 'none', 'busybox', 'sh', '-c', CHANGES]);
    const ours = md.ok(['diff', 'd1']);
    assert.equal(
      ours,
      ['C /bin', 'D /bin/ls', 'C /etc', 'A /etc/new', 'C /etc/passwd', 'D /home', 'A /home/z', 'C /tmp', 'A /tmp/a', 'A /tmp/a/b', 'A /tmp/a/b/c', ''].join('\n'),
    );
    if (havePodman()) {
      const podman = new Podman();
      try {
        const r = podman.run(['run', '--name', 'd1', ...Podman.RUN_DEFAULTS, 'busybox', 'sh', '-c', CHANGES]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(podman.run(['diff', 'd1']).stdout, ours, 'podman (control)');
      } finally {
        podman.cleanup();
      }
    }
    md.ok(['rm', 'd1']);
    assert.equal(md.run(['diff', 'nosuch']).stderr, 'mydocker: No such container: nosuch\n');
  }));
});

describe('mydocker update', () => {
  it('changes a running container\'s limits in its cgroup and keeps them for the next start', withMydocker((md) => {
    md.ok(['run', '-d', '--name', 'u1', '--network', 'none', '-m', '64m', 'busybox', 'sleep', '300']);
    assert.equal(md.ok(['update', '-m', '96m', '--memory-swap', '200m', '--cpus', '0.5', '--pids-limit', '50', 'u1']), 'u1\n');
    const mem = cgroupFile(md, 'u1', 'memory.max') ?? cgroupFile(md, 'u1', 'memory.limit_in_bytes');
    assert.equal(mem, String(96 * 1024 * 1024));
    const cpuMax = cgroupFile(md, 'u1', 'cpu.max');
    if (cpuMax !== undefined) assert.equal(cpuMax, '50000 100000');
    else assert.equal(cgroupFile(md, 'u1', 'cpu.cfs_quota_us'), '50000');
    assert.equal(cgroupFile(md, 'u1', 'pids.max'), '50');
    // 0 takes a limit away.
    md.ok(['update', '--cpus', '0', '--pids-limit', '-1', 'u1']);
    const cpuAfter = cgroupFile(md, 'u1', 'cpu.max');
    if (cpuAfter !== undefined) assert.match(cpuAfter, /^max /);
    else assert.equal(cgroupFile(md, 'u1', 'cpu.cfs_quota_us'), '-1');
    assert.equal(cgroupFile(md, 'u1', 'pids.max'), 'max');
    const hc = JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig}}', 'u1']));
    assert.equal(hc.Memory, 96 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 200 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 0);
    md.ok(['restart', '-t', '0', 'u1']);
    assert.equal(cgroupFile(md, 'u1', 'memory.max') ?? cgroupFile(md, 'u1', 'memory.limit_in_bytes'), String(96 * 1024 * 1024), 'kept across a restart');
    md.ok(['rm', '-f', 'u1']);
  }));

  it('a stopped container keeps the new limits; --restart is updated; bad values are one line and change nothing', withMydocker((md) => {
    md.ok(['create', '--name', 'u2', '--network', 'none', 'busybox', 'sleep', '300']);
    md.ok(['update', '--memory', '32m', '--restart', 'on-failure:3', 'u2']);
    const hc = JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig}}', 'u2']));
    assert.equal(hc.Memory, 32 * 1024 * 1024);
    assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    md.ok(['start', 'u2']);
    assert.equal(cgroupFile(md, 'u2', 'memory.max') ?? cgroupFile(md, 'u2', 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
    for (const [args, says] of [
      [['-m', 'banana'], /^mydocker: invalid argument "banana" for "--memory" flag/],
      [['--cpus', '1', '--cpu-quota', '20000'], /Conflicting options/],
      [['--restart', 'sometimes'], /^mydocker: --restart sometimes: /],
      [[], /you must provide one or more flags/],
    ] as const) {
      const r = md.run(['update', ...args, 'u2']);
      assert.equal(r.status, 125, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, says);
    }
    assert.equal(JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig.Memory}}', 'u2'])), 32 * 1024 * 1024, 'unchanged');
    md.ok(['run', '-d', '--rm', '--name', 'u3', '--network', 'none', 'busybox', 'sleep', '300']);
    assert.match(md.run(['update', '--restart', 'always', 'u3']).stderr, /AutoRemove is enabled/);
    md.ok(['rm', '-f', 'u2', 'u3']);
  }));

  it('podman (control): the same live update reaches the cgroup', { skip: !havePodman() && 'podman is not installed' }, () => {
    const podman = new Podman();
    try {
      const id = podman.run(['run', '-d', ...Podman.RUN_DEFAULTS, '-m', '64m', 'busybox', 'sleep', '300']).stdout.trim();
      const u = podman.run(['update', '--memory', '96m', '--memory-swap', '200m', id]);
      assert.equal(u.status, 0, u.stderr);
      const limit = podman.run(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes']);
      assert.equal(limit.stdout.trim(), String(96 * 1024 * 1024));
    } finally {
      podman.cleanup();
    }
  });
});
