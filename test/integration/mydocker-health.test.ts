// Healthchecks (`--health-*`, an image's HEALTHCHECK), as docker's: starting → healthy or
// unhealthy after the retries, the failing streak and the last five results in inspect's
// State.Health, the timeout, the start period and its interval, ps's status and filter — and,
// with no daemon, the per-container checker: it must die with its run whatever ends it (stop,
// kill, rm -f, an exit on its own, a restart by its policy, mydocker or the checker killed with
// -9). The sandbox also fails a test that leaves a checker of its root. podman is the control
// for the status names and the probe's exit-code semantics.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { havePodman, healthCheckers, Podman, waitFor, withMydocker, type MydockerSandbox } from '../helpers/mydocker.js';

const NONE = ['--network', 'none'];
/** Quick first checks (the start interval during a long start period), then a long interval:
 * a checker that survived its container would still be sleeping when the test looks. */
const QUICK_THEN_SLOW = ['--health-start-period', '60s', '--health-start-interval', '200ms', '--health-interval', '60s'];

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

function health(md: MydockerSandbox, ref: string): Health | null {
  const state = JSON.parse(md.ok(['inspect', '--format', '{{json .State}}', ref])) as { Health?: Health };
  return state.Health ?? null;
}

const psStatus = (md: MydockerSandbox, name: string) => md.ok(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}']).trim();
const psNames = (md: MydockerSandbox, ...filter: string[]) => md.ok(['ps', '-a', ...filter.flatMap((f) => ['--filter', f]), '--format', '{{.Names}}']).trim().split('\n').filter(Boolean).sort();
const checkersOf = (md: MydockerSandbox, id: string) => healthCheckers(md.root).filter((p) => p.includes(id));
/** The checker loops alone (not their probes). */
const loopsOf = (md: MydockerSandbox, id: string) => checkersOf(md, id).filter((p) => p.includes('mydocker-health'));

/** Pids of the live (not zombie) processes in process group `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function becomes(md: MydockerSandbox, ref: string, status: string, ms = 10_000): Promise<Health> {
  const h = await waitFor(() => {
    const h = health(md, ref);
    return h?.Status === status ? h : null;
  }, ms, `${ref} ${status}`);
  return h!;
}

async function noCheckers(md: MydockerSandbox, id: string, what: string): Promise<void> {
  await waitFor(() => checkersOf(md, id).length === 0, 3000, `no health checker of ${id.slice(0, 12)} after ${what}`);
}

describe('mydocker healthchecks: results', () => {
  it('a passing check: starting, then healthy; inspect, ps and its filter as docker', withMydocker(async (md) => {
    md.ok(['run', '-d', ...NONE, '--name', 'okc', '--health-cmd', 'echo alive', '--health-interval', '200ms', 'busybox', 'sleep', '100']);
    // Never probed yet (a 60 s interval): starting.
    md.ok(['run', '-d', ...NONE, '--name', 'slow', '--health-cmd', 'true', 'busybox', 'sleep', '100']);
    md.ok(['run', '-d', ...NONE, '--name', 'plain', 'busybox', 'sleep', '100']);
    const h = await becomes(md, 'okc', 'healthy');
    assert.equal(h.FailingStreak, 0);
    assert.ok(h.Log.length >= 1 && h.Log.length <= 5);
    const last = h.Log[h.Log.length - 1]!;
    assert.equal(last.ExitCode, 0);
    assert.equal(last.Output, 'alive\n');
    assert.ok(Date.parse(last.End) >= Date.parse(last.Start));
    assert.deepEqual(JSON.parse(md.ok(['inspect', '--format', '{{json .Config.Healthcheck}}', 'okc'])), { Test: ['CMD-SHELL', 'echo alive'], Interval: 200_000_000 });
    // Five results at most, the last ones.
    await waitFor(() => (health(md, 'okc')?.Log.length ?? 0) === 5, 10_000, 'five results');
    assert.match(psStatus(md, 'okc'), /^Up .+ \(healthy\)$/);

    assert.equal(health(md, 'slow')?.Status, 'starting');
    assert.match(psStatus(md, 'slow'), /^Up .+ \(health: starting\)$/);
    assert.deepEqual(JSON.parse(md.ok(['inspect', '--format', '{{json .Config.Healthcheck}}', 'slow'])), { Test: ['CMD-SHELL', 'true'] });
    // No healthcheck: no Health in inspect, no (…) in ps.
    assert.equal(health(md, 'plain'), null);
    assert.match(psStatus(md, 'plain'), /^Up [^()]+$/);

    assert.deepEqual(psNames(md, 'health=healthy'), ['okc']);
    assert.deepEqual(psNames(md, 'health=starting'), ['slow']);
    assert.deepEqual(psNames(md, 'health=none'), ['plain']);
    assert.deepEqual(psNames(md, 'health=unhealthy'), []);
    const bad = md.run(['ps', '--filter', 'health=bogus']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /health: bogus/);
  }));

  it('a failing check: unhealthy after the retries, with the streak, the exit codes and the output (4 KiB, then "...")', withMydocker(async (md) => {
    const cmd = "head -c 5000 /dev/zero | tr '\\0' x; exit 3";
    md.ok(['run', '-d', ...NONE, '--name', 'sick', '--health-cmd', cmd, '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '100']);
    const h = await becomes(md, 'sick', 'unhealthy');
    assert.ok(h.FailingStreak >= 2, `streak ${h.FailingStreak}`);
    assert.ok(h.Log.length >= 2);
    for (const e of h.Log) {
      assert.equal(e.ExitCode, 3);
      assert.equal(e.Output, `${'x'.repeat(4096)}...`);
    }
    assert.match(psStatus(md, 'sick'), /^Up .+ \(unhealthy\)$/);
    assert.deepEqual(psNames(md, 'health=unhealthy'), ['sick']);
  }));

  it('a check that exceeds its timeout fails with docker\'s message and exit code -1', withMydocker(async (md) => {
    md.ok(['run', '-d', ...NONE, '--name', 'hang', '--health-cmd', 'sleep 10', '--health-timeout', '300ms', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '100']);
    const h = await becomes(md, 'hang', 'unhealthy');
    const e = h.Log[0]!;
    assert.equal(e.ExitCode, -1);
    assert.equal(e.Output, 'Health check exceeded timeout (300ms)');
  }));

  it('the start period: failures do not count while starting (checked at the start interval); a success ends it', withMydocker(async (md) => {
    // A 60 s interval: only the 200 ms start interval can give several results in time.
    md.ok(['run', '-d', ...NONE, '--name', 'boot', '--health-cmd', 'test -e /tmp/ready', '--health-retries', '1', ...QUICK_THEN_SLOW, 'busybox', 'sleep', '100']);
    const starting = (await waitFor(() => {
      const h = health(md, 'boot');
      return h && h.Log.length >= 3 ? h : null;
    }, 10_000, 'three failed checks'))!;
    assert.equal(starting.Status, 'starting', 'failures within the start period do not make it unhealthy');
    assert.equal(starting.FailingStreak, 0);
    assert.ok(starting.Log.every((e) => e.ExitCode === 1));
    md.ok(['exec', 'boot', 'touch', '/tmp/ready']);
    await becomes(md, 'boot', 'healthy');

    // Once healthy, failures count even within the start period.
    md.ok(['run', '-d', ...NONE, '--name', 'flap', '--health-cmd', 'test -e /tmp/ready', '--health-retries', '1', '--health-start-period', '60s', '--health-start-interval', '200ms', '--health-interval', '200ms', 'busybox', 'sh', '-c', 'touch /tmp/ready; exec sleep 100']);
    await becomes(md, 'flap', 'healthy');
    md.ok(['exec', 'flap', 'rm', '/tmp/ready']);
    const h = await becomes(md, 'flap', 'unhealthy');
    assert.equal(h.FailingStreak, 1);
  }));

  it('bad values: one line naming the flag, exit 125, nothing created', withMydocker(async (md) => {
    const cases: [string[], RegExp][] = [
      [['--health-interval', 'banana'], /--health-interval.*banana/],
      [['--health-timeout', '-1s'], /--health-timeout -1s: cannot be negative/],
      [['--health-interval', '100us'], /--health-interval 100us: cannot be less than 1ms/],
      [['--health-retries', '-2'], /--health-retries -2: cannot be negative/],
      [['--health-start-interval', '5'], /--health-start-interval/],
      [['--no-healthcheck', '--health-cmd', 'true'], /--no-healthcheck conflicts with --health-\* options/],
    ];
    for (const [flags, re] of cases) {
      const r = md.run(['run', '-d', ...NONE, ...flags, 'busybox', 'true']);
      assert.equal(r.status, 125, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.deepEqual(md.ids(), []);
  }));
});

describe('mydocker healthchecks: the image\'s HEALTHCHECK', () => {
  it('is inherited, overridden field by field by the flags, and switched off by --no-healthcheck', withMydocker(async (md) => {
    md.ok(['create', ...NONE, '--name', 'base', 'busybox', 'true']);
    md.ok(['commit', '-c', 'HEALTHCHECK --interval=200ms --retries=1 CMD ["sh", "-c", "echo from-image; exit 1"]', 'base', 'hcimg']);
    assert.deepEqual(JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', 'hcimg'])), { Test: ['CMD', 'sh', '-c', 'echo from-image; exit 1'], Interval: 200_000_000, Retries: 1 });

    md.ok(['run', '-d', ...NONE, '--name', 'inherits', 'hcimg', 'sleep', '100']);
    md.ok(['run', '-d', ...NONE, '--name', 'overrides', '--health-cmd', 'echo mine', 'hcimg', 'sleep', '100']);
    const offId = md.ok(['run', '-d', ...NONE, '--name', 'off', '--no-healthcheck', 'hcimg', 'sleep', '100']).trim();

    const inherited = await becomes(md, 'inherits', 'unhealthy');
    assert.equal(inherited.Log[0]!.Output, 'from-image\n');
    const overridden = await becomes(md, 'overrides', 'healthy');
    assert.equal(overridden.Log[0]!.Output, 'mine\n');
    // The command is the flag's; the interval and retries still the image's.
    assert.deepEqual(JSON.parse(md.ok(['inspect', '--format', '{{json .Config.Healthcheck}}', 'overrides'])), { Test: ['CMD-SHELL', 'echo mine'], Interval: 200_000_000, Retries: 1 });

    assert.deepEqual(JSON.parse(md.ok(['inspect', '--format', '{{json .Config.Healthcheck}}', 'off'])).Test, ['NONE']);
    assert.equal(health(md, 'off'), null);
    assert.deepEqual(checkersOf(md, offId), [], 'no checker for a container without a healthcheck');
    assert.match(psStatus(md, 'off'), /^Up [^()]+$/);
    assert.deepEqual(psNames(md, 'health=none'), ['base', 'off']);
  }));
});

describe('mydocker healthchecks: the checker dies with its run', () => {
  it('on stop (the last Health kept, unhealthy as docker once stopped), and a start begins at starting again', withMydocker(async (md) => {
    const id = md.ok(['run', '-d', ...NONE, '--name', 'stp', '--health-cmd', 'true', ...QUICK_THEN_SLOW, 'busybox', 'sleep', '100']).trim();
    const before = await becomes(md, 'stp', 'healthy');
    assert.equal(loopsOf(md, id).length, 1);
    md.ok(['stop', '-t', '0', 'stp']);
    await noCheckers(md, id, 'stop');
    const stopped = health(md, 'stp')!;
    assert.equal(stopped.Status, 'unhealthy');
    assert.equal(stopped.FailingStreak, 0);
    assert.ok(stopped.Log.length >= before.Log.length, 'the log is kept');
    assert.match(psStatus(md, 'stp'), /^Exited \(\d+\) [^()]+ ago$/);
    assert.deepEqual(psNames(md, 'health=unhealthy'), ['stp']);

    md.ok(['start', 'stp']);
    const startedAt = Date.parse(md.ok(['inspect', '--format', '{{.State.StartedAt}}', 'stp']).trim());
    const again = health(md, 'stp')!;
    // Starting again — unless a check of the new run already passed.
    assert.ok(again.Status === 'starting' || again.Log.some((e) => Date.parse(e.Start) >= startedAt), JSON.stringify(again));
    assert.equal(again.FailingStreak, 0);
    assert.ok(again.Log.some((e) => Date.parse(e.Start) < startedAt), 'the log of the previous run is kept');
    await waitFor(() => loopsOf(md, id).length === 1, 3000, 'one checker for the new run');
    md.ok(['kill', 'stp']);
    await noCheckers(md, id, 'kill');
  }));

  it('on rm -f, and when the container exits on its own', withMydocker(async (md) => {
    const rmId = md.ok(['run', '-d', ...NONE, '--name', 'rmf', '--health-cmd', 'true', ...QUICK_THEN_SLOW, 'busybox', 'sleep', '100']).trim();
    const exitId = md.ok(['run', '-d', ...NONE, '--name', 'ends', '--health-cmd', 'true', ...QUICK_THEN_SLOW, 'busybox', 'sh', '-c', 'sleep 1.5']).trim();
    await becomes(md, 'rmf', 'healthy');
    md.ok(['rm', '-f', 'rmf']);
    await noCheckers(md, rmId, 'rm -f');
    await becomes(md, 'ends', 'healthy');
    await waitFor(() => md.state('ends').Status === 'exited', 10_000, 'ends exited');
    await noCheckers(md, exitId, 'its exit');
  }));

  it('on each restart by its policy: one checker per run, none once stopped', withMydocker(async (md) => {
    const id = md.ok(['run', '-d', ...NONE, '--name', 'again', '--restart', 'always', '--health-cmd', 'true', ...QUICK_THEN_SLOW, 'busybox', 'sh', '-c', 'sleep 1; exit 3']).trim();
    const pids = new Set<string>();
    for (const deadline = Date.now() + 15_000; ; ) {
      let c = loopsOf(md, id);
      // The previous run's loop may still be dying (SIGKILLed, not yet exited): look again.
      if (c.length > 1) {
        await new Promise((r) => setTimeout(r, 300));
        c = loopsOf(md, id);
      }
      assert.ok(c.length <= 1, `one checker at a time: ${c.join('; ')}`);
      for (const p of c) pids.add(p.split(' ')[0]!);
      if (pids.size >= 2 && Number(md.ok(['inspect', '--format', '{{.RestartCount}}', 'again'])) >= 1) break;
      assert.ok(Date.now() < deadline, 'timed out waiting for a second run with its own checker');
      await new Promise((r) => setTimeout(r, 20));
    }
    md.ok(['stop', 'again']);
    await noCheckers(md, id, 'stop of a restarting container');
  }));

  it('when mydocker is killed with -9 right after starting it, rm -f still kills it', withMydocker(async (md) => {
    const r = md.run(['run', '-d', ...NONE, '--name', 'crash', '--health-cmd', 'true', ...QUICK_THEN_SLOW, 'busybox', 'sleep', '100'], { env: { MYDOCKER_TEST_CRASH_AT: 'start:health-started' } });
    assert.equal(r.status, null, 'killed');
    const id = md.ids()[0]!;
    await becomes(md, 'crash', 'healthy');
    assert.equal(loopsOf(md, id).length, 1);
    md.ok(['rm', '-f', 'crash']);
    await noCheckers(md, id, 'rm -f');
  }));

  it('when the checker loop itself is killed with -9, rm -f takes what it left (its sleep, a probe)', withMydocker(async (md) => {
    const id = md.ok(['run', '-d', ...NONE, '--name', 'orphan', '--health-cmd', 'true', ...QUICK_THEN_SLOW, 'busybox', 'sleep', '100']).trim();
    await becomes(md, 'orphan', 'healthy');
    const loop = Number(checkersOf(md, id).find((p) => p.includes('mydocker-health'))!.split(' ')[0]);
    await waitFor(() => groupMembers(loop).length >= 2, 3000, 'the loop sleeping');
    process.kill(loop, 'SIGKILL');
    await waitFor(() => !groupMembers(loop).includes(loop), 3000, 'the loop gone');
    assert.ok(groupMembers(loop).length >= 1, 'its sleep is left');
    md.ok(['rm', '-f', 'orphan']);
    await waitFor(() => groupMembers(loop).length === 0, 3000, 'nothing of the checker group');
  }));
});

describe('mydocker healthchecks: podman as the control', () => {
  it('status names and exit-code semantics match podman\'s', { skip: !havePodman() && 'no podman' }, withMydocker(async (md) => {
    const podman = new Podman();
    try {
      const run = (name: string, cmd: string) => podman.run(['run', '-d', '--name', name, ...Podman.RUN_DEFAULTS, '--health-cmd', cmd, '--health-retries', '1', '--health-interval', 'disable', 'busybox', '/bin/sleep', '100']);
      for (const [name, cmd] of [['pgood', 'exit 0'], ['pbad', 'exit 1']] as const) {
        const r = run(name, cmd);
        assert.equal(r.status, 0, r.stderr);
      }
      const pstatus = (name: string) => {
        const h = JSON.parse(podman.run(['inspect', '--format', '{{json .State.Health}}', name]).stdout) as Health;
        return h.Status;
      };
      assert.equal(pstatus('pgood'), 'starting');
      const good = podman.run(['healthcheck', 'run', 'pgood']);
      const bad = podman.run(['healthcheck', 'run', 'pbad']);
      assert.equal(good.status, 0, good.stderr);
      assert.equal(bad.status, 1, bad.stderr);
      assert.equal(pstatus('pgood'), 'healthy');
      assert.equal(pstatus('pbad'), 'unhealthy');
      assert.match(podman.run(['ps', '--filter', 'name=pgood', '--format', '{{.Status}}']).stdout, /\(healthy\)/);

      md.ok(['run', '-d', ...NONE, '--name', 'mgood', '--health-cmd', 'exit 0', '--health-retries', '1', '--health-interval', '200ms', 'busybox', 'sleep', '100']);
      md.ok(['run', '-d', ...NONE, '--name', 'mbad', '--health-cmd', 'exit 1', '--health-retries', '1', '--health-interval', '200ms', 'busybox', 'sleep', '100']);
      assert.equal((await becomes(md, 'mgood', 'healthy')).Log[0]!.ExitCode, 0);
      assert.equal((await becomes(md, 'mbad', 'unhealthy')).Log[0]!.ExitCode, 1);
      assert.match(psStatus(md, 'mgood'), /\(healthy\)/);
    } finally {
      podman.cleanup();
    }
  }));
});
