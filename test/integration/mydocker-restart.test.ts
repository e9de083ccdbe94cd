// Restart policies (`run/create --restart`), as docker's: which exits restart, RestartCount,
// docker's back-off, manual stops (stop, kill, rm -f) that win over every policy, a foreground
// run that reports its first exit code, bad values — and a waiter killed with -9. No daemon:
// conmon's exit command does the restarts, so every test also checks (through the sandbox)
// that no waiter, monitor or mount outlives its container.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { havePodman, Podman, processesWith, waitFor, withMydocker, type MydockerSandbox } from '../helpers/mydocker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NONE = ['--network', 'none'];

interface Info {
  RestartCount: number;
  Status: string;
  Restarting: boolean;
  Running: boolean;
  ExitCode: number;
}

function info(md: MydockerSandbox, ref: string): Info {
  const [count = '', status = '', restarting = '', running = '', code = ''] = md.ok(['inspect', '--format', '{{.RestartCount}} {{.State.Status}} {{.State.Restarting}} {{.State.Running}} {{.State.ExitCode}}', ref]).trim().split(' ');
  return { RestartCount: Number(count), Status: status, Restarting: restarting === 'true', Running: running === 'true', ExitCode: Number(code) };
}

// (The names in each test are not parts of one another: --filter name= matches substrings.)
const psStatus = (md: MydockerSandbox, name: string) => md.ok(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}']).trim();
const runs = (md: MydockerSandbox, ref: string) => md.ok(['logs', ref]).split('\n').filter((l) => l === 'run').length;
/** The restart waiters (conmon's exit command sleeping the back-off) of a container. */
const waiters = (id: string) => processesWith(`container cleanup ${id}`);

describe('mydocker --restart: which exits restart', () => {
  it('always: RestartCount grows, ps says Restarting or Up, stop ends it for good', withMydocker(async (md) => {
    const id = md.ok(['run', '-d', ...NONE, '--name', 'al', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 3']).trim();
    const seen = new Set<string>();
    await waitFor(() => {
      const s = psStatus(md, 'al');
      seen.add(s.replace(/\d+ seconds?|Less than a second|About a minute/, 'T'));
      assert.match(s, /^(Restarting \(3\) .+ ago|Up .+)$/, 'between runs docker says Restarting, never Exited or Created');
      return info(md, 'al').RestartCount >= 3;
    }, 20_000, 'three restarts');
    assert.ok([...seen].some((s) => s.startsWith('Restarting (3)')), `seen: ${[...seen].join(', ')}`);
    const r = info(md, 'al');
    assert.equal(r.Status === 'restarting', r.Restarting);
    assert.deepEqual(JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig.RestartPolicy}}', 'al'])), { Name: 'always', MaximumRetryCount: 0 });
    // ps without -a lists it (docker counts a restarting container as running).
    assert.match(md.ok(['ps', '--format', '{{.Names}}']), /^al$/m);

    md.ok(['stop', 'al']);
    const stopped = info(md, 'al');
    assert.equal(stopped.Status, 'exited');
    assert.equal(stopped.Restarting, false);
    assert.match(psStatus(md, 'al'), /^Exited \(3\) /);
    await sleep(2500); // longer than any back-off reached so far
    assert.equal(info(md, 'al').RestartCount, stopped.RestartCount, 'no restart after stop');
    assert.match(psStatus(md, 'al'), /^Exited \(3\) /);
    assert.deepEqual(waiters(id), [], 'stop cancelled the pending restart');
  }));

  it('rm -f during the restarts leaves nothing, and nothing restarts', withMydocker(async (md) => {
    const id = md.ok(['run', '-d', ...NONE, '--name', 'gone', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']).trim();
    await waitFor(() => info(md, 'gone').RestartCount >= 2 && info(md, 'gone').Restarting, 20_000, 'restarting');
    assert.equal(md.run(['rm', 'gone']).status, 125, 'a restarting container is not removed without -f (docker)');
    md.ok(['rm', '-f', 'gone']);
    assert.equal(md.ok(['ps', '-aq']), '');
    await sleep(1000);
    assert.equal(md.ok(['ps', '-aq']), '', 'nothing came back');
    assert.deepEqual(md.ids(), []);
    assert.deepEqual(processesWith(id), [], 'no waiter or monitor left');
  }));

  it('on-failure:2: exactly two restarts, then Exited; on-failure with exit 0: none', withMydocker(async (md) => {
    md.ok(['run', '-d', ...NONE, '--name', 'f2', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 5']);
    md.ok(['run', '-d', ...NONE, '--name', 'f0', '--restart', 'on-failure', 'busybox', 'sh', '-c', 'echo run; exit 0']);
    await waitFor(() => info(md, 'f2').Status === 'exited', 20_000, 'f2 done');
    await sleep(1500); // a third restart would have come by now
    const f2 = info(md, 'f2');
    assert.equal(f2.RestartCount, 2);
    assert.equal(f2.ExitCode, 5);
    assert.equal(runs(md, 'f2'), 3);
    assert.match(psStatus(md, 'f2'), /^Exited \(5\) /);
    const f0 = info(md, 'f0');
    assert.equal(f0.Status, 'exited');
    assert.equal(f0.RestartCount, 0);
    assert.equal(runs(md, 'f0'), 1);
    assert.deepEqual(JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig.RestartPolicy}}', 'f2'])), { Name: 'on-failure', MaximumRetryCount: 2 });
  }));

  it('on the default network: every run has its address back, and nothing of it leaks', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'net', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo "run $(ip -4 -o addr show eth0 | wc -l)"; exit 3']);
    await waitFor(() => info(md, 'net').Status === 'exited' && info(md, 'net').RestartCount === 2, 20_000, 'two restarts');
    assert.equal(md.ok(['logs', 'net']), 'run 1\nrun 1\nrun 1\n', 'one IPv4 address on eth0 in each run');
    md.ok(['rm', 'net']); // the sandbox then checks veths, firewall rules, addresses, host ports
  }));

  for (const policy of ['unless-stopped', 'always']) {
    it(`${policy}: no restart after stop or kill; after start the policy applies again`, withMydocker(async (md) => {
      // Exits 7 on the stop signal, 9 on SIGUSR2 (a signal that is not a manual stop).
      const script = 'trap "exit 7" TERM; trap "exit 9" USR2; echo run; while true; do sleep 0.1; done';
      md.ok(['run', '-d', ...NONE, '--name', 'us', '--restart', policy, 'busybox', 'sh', '-c', script]);
      await waitFor(() => runs(md, 'us') === 1, 10_000, 'first run');
      md.ok(['stop', 'us']);
      await sleep(1000);
      let s = info(md, 'us');
      assert.deepEqual([s.Status, s.ExitCode, s.RestartCount, runs(md, 'us')], ['exited', 7, 0, 1], 'a manual stop is not restarted');

      md.ok(['start', 'us']);
      await waitFor(() => runs(md, 'us') === 2, 10_000, 'second run');
      md.ok(['kill', '-s', 'USR2', 'us']); // the process exits of it: the policy restarts it
      await waitFor(() => runs(md, 'us') === 3 && info(md, 'us').Status === 'running', 10_000, 'restarted after exit 9');
      assert.equal(info(md, 'us').RestartCount, 1);

      md.ok(['kill', 'us']); // SIGKILL: a manual stop too
      await waitFor(() => info(md, 'us').Status === 'exited', 10_000, 'killed');
      await sleep(1000);
      s = info(md, 'us');
      assert.deepEqual([s.Status, s.ExitCode, s.RestartCount, runs(md, 'us')], ['exited', 137, 1, 3]);
    }));
  }

  it('stop during the back-off cancels the pending restart', withMydocker(async (md) => {
    const id = md.ok(['run', '-d', ...NONE, '--name', 'bo', '--restart', 'always', 'busybox', 'sh', '-c', 'echo run; exit 2']).trim();
    // After four restarts the next wait is 1.6 s: long enough to catch it waiting.
    await waitFor(() => info(md, 'bo').RestartCount >= 4, 20_000, 'four restarts');
    await waitFor(() => info(md, 'bo').Restarting, 10_000, 'waiting');
    md.ok(['stop', 'bo']);
    const count = info(md, 'bo').RestartCount;
    await sleep(4000);
    const s = info(md, 'bo');
    assert.deepEqual([s.Status, s.Restarting, s.RestartCount], ['exited', false, count]);
    assert.deepEqual(waiters(id), []);
  }));
});

describe('mydocker --restart: back-off and the foreground', () => {
  it("docker's back-off: the waits between runs grow", withMydocker(async (md) => {
    md.ok(['run', '-d', ...NONE, '--name', 'grow', '--restart', 'always', 'busybox', 'sh', '-c', 'echo run']);
    await waitFor(() => runs(md, 'grow') >= 6, 30_000, 'six runs');
    md.ok(['stop', 'grow']);
    // One line per run, with its time: the gaps are 100, 200, 400, 800, 1600 ms plus a start.
    const times = md.ok(['logs', '-t', 'grow']).trim().split('\n').map((l) => Date.parse(l.split(' ')[0]!));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps.length >= 5, `gaps: ${gaps}`);
    assert.ok(gaps[4]! > gaps[0]! + 700, `the fifth wait is far longer than the first: ${gaps.join(', ')} ms`);
    assert.ok(gaps[3]! + gaps[4]! > gaps[0]! + gaps[1]! + 1000, `gaps: ${gaps.join(', ')} ms`);
  }));

  it('a foreground run reports its first exit code; the container is restarted after it', withMydocker(async (md) => {
    const r = md.run(['run', ...NONE, '--name', 'fg', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'echo run; exit 4']);
    assert.equal(r.status, 4);
    assert.equal(r.stdout, 'run\n');
    await waitFor(() => runs(md, 'fg') === 2 && info(md, 'fg').Status === 'exited', 15_000, 'the restart, then the end');
    await sleep(500);
    const s = info(md, 'fg');
    assert.deepEqual([s.RestartCount, s.ExitCode, runs(md, 'fg')], [1, 4, 2]);
  }));

  it('a waiter killed with -9 leaves an Exited container that ps, start and rm -f handle', withMydocker(async (md) => {
    const id = md.ok(['run', '-d', ...NONE, '--name', 'crash', '--restart', 'always', 'busybox', 'sh', '-c', 'echo run; exit 6']).trim();
    await waitFor(() => info(md, 'crash').RestartCount >= 4, 20_000, 'four restarts');
    const record = () => JSON.parse(readFileSync(join(md.root, 'containers', id, 'container.json'), 'utf8'));
    const waiter = await waitFor(() => record().PendingRestart?.Waiter as number | undefined, 10_000, 'a waiter');
    process.kill(waiter!, 'SIGKILL');
    await waitFor(() => !waiters(id).length, 5000, 'the waiter gone');
    const count = info(md, 'crash').RestartCount;
    const s = info(md, 'crash');
    assert.deepEqual([s.Status, s.Restarting, s.ExitCode], ['exited', false, 6]);
    assert.match(psStatus(md, 'crash'), /^Exited \(6\) /);
    await sleep(2000);
    assert.equal(info(md, 'crash').RestartCount, count, 'nothing restarts it');
    // start: a new run, and the policy again (its count starts over, as docker's).
    md.ok(['start', 'crash']);
    await waitFor(() => info(md, 'crash').RestartCount >= 1 && runs(md, 'crash') >= count + 3, 20_000, 'restarting again');
    md.ok(['rm', '-f', 'crash']);
    assert.equal(md.ok(['ps', '-aq']), '');
  }));
});

describe('mydocker --restart: values', () => {
  it('bad values and --rm: 125, one line naming the flag, nothing created', withMydocker((md) => {
    const cases: [string[], RegExp][] = [
      [['--restart', 'bogus'], /^mydocker: --restart bogus: invalid restart policy 'bogus'/],
      [['--restart', 'always:3'], /^mydocker: --restart always:3: maximum retry count cannot be used with restart policy 'always'$/],
      [['--restart', 'unless-stopped:1'], /maximum retry count cannot be used with restart policy 'unless-stopped'$/],
      [['--restart', 'on-failure:-1'], /^mydocker: --restart on-failure:-1: maximum retry count cannot be negative$/],
      [['--restart', 'on-failure:x'], /^mydocker: --restart on-failure:x: maximum retry count must be an integer$/],
      [['--restart', ':2'], /^mydocker: --restart :2: .*no policy/],
      [['--rm', '--restart', 'always'], /^mydocker: Conflicting options: --restart and --rm$/],
      [['--restart', 'on-failure', '--rm'], /^mydocker: Conflicting options: --restart and --rm$/],
    ];
    for (const verb of ['run', 'create']) {
      for (const [flags, re] of cases) {
        const r = md.run([verb, ...NONE, ...flags, 'busybox', 'true']);
        assert.equal(r.status, 125, `${verb} ${flags.join(' ')}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr.trim(), re);
      }
    }
    assert.deepEqual(md.ids(), [], 'nothing created');
    // Good values, as docker keeps them; no flag is "no"; --rm with "no" is fine.
    const policy = (flags: string[]) => {
      const id = md.ok(['create', ...NONE, ...flags, 'busybox', 'true']).trim();
      return JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig.RestartPolicy}}', id]));
    };
    assert.deepEqual(policy([]), { Name: 'no', MaximumRetryCount: 0 });
    assert.deepEqual(policy(['--restart', 'unless-stopped']), { Name: 'unless-stopped', MaximumRetryCount: 0 });
    assert.deepEqual(policy(['--restart=on-failure:3']), { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.deepEqual(policy(['--restart', 'on-failure:0']), { Name: 'on-failure', MaximumRetryCount: 0 });
    assert.deepEqual(policy(['--rm', '--restart', 'no']), { Name: 'no', MaximumRetryCount: 0 });
    assert.equal(md.run(['run', '--rm', ...NONE, '--restart', 'no', 'busybox', 'true']).status, 0);
  }));

  it('on-failure:2 counts as podman does (control)', { skip: !havePodman() && 'no podman' }, withMydocker(async (md) => {
    const podman = new Podman();
    try {
      const pr = podman.run(['run', '-d', '--name', 'pf', '--restart', 'on-failure:2', ...Podman.RUN_DEFAULTS, 'busybox', 'sh', '-c', 'exit 5']);
      assert.equal(pr.status, 0, pr.stderr);
      md.ok(['run', '-d', ...NONE, '--name', 'pf', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 5']);
      const podmanState = () => podman.run(['inspect', '--format', '{{.RestartCount}} {{.State.Status}}', 'pf']).stdout.trim();
      await waitFor(() => podmanState() === '2 exited', 30_000, `podman: 2 restarts then exited (${podmanState()})`);
      await waitFor(() => info(md, 'pf').Status === 'exited', 30_000, 'mydocker done');
      await sleep(1000);
      assert.equal(podmanState(), '2 exited');
      assert.equal(info(md, 'pf').RestartCount, 2);
    } finally {
      podman.cleanup();
    }
  }));
});
