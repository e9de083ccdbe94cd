// The runtime CLI as containerd's shim (go-runc) and podman call it, without containerd:
// /work/shared/contracts/containerd-shim.md §1, §6, §12, one assertion per contract point.
// Each point is proven on Debian's runc first, then checked on mydocker-runc.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDuration } from '../../src/cli/verbs/events.js';
import { ramInBytes, resourcesFromFlags } from '../../src/cli/verbs/update.js';
import { baseConfig, cleanEnv, haveRunc, OURS, RUNC, Sandbox, uniqueId, waitFor, type Runtime } from '../helpers/runtime.js';

/** cgroupsPath parent of these tests, removed at the end when empty and made here. */
const PARENT = 'mydocker-clitest';
const parentsBefore = new Set(cgroupParentDirs());

function cgroupParentDirs(): string[] {
  try {
    return readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, PARENT)).filter((d) => existsSync(d));
  } catch {
    return [];
  }
}

/** The runtime with exactly these arguments (no --root added), stdin from `input`. */
function raw(rt: Runtime, args: string[], input?: string) {
  const [cmd, ...pre] = rt.argv;
  const r = spawnSync(cmd!, [...pre, ...args], { encoding: 'utf8', env: cleanEnv(), timeout: 30_000, input: input ?? '' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Parse a --log-format json file the way the shim does: every line an object, time RFC 3339. */
function logLines(file: string): { level: string; msg: string; time: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const o = JSON.parse(line);
      assert.equal(typeof o.msg, 'string', line);
      assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, `RFC 3339 time in ${line}`);
      return o;
    });
}

after(() => {
  for (const d of cgroupParentDirs()) {
    if (parentsBefore.has(d)) continue;
    try {
      rmdirSync(d);
    } catch {
      /* not empty: a leak the per-test cleanup reports */
    }
  }
});

describe('flag parsing as runc (urfave/cli, go-units)', () => {
  it('--interval takes a Go duration', () => {
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('0'), 0);
    assert.throws(() => parseDuration('5'), /invalid value "5" for flag -interval/);
    assert.throws(() => parseDuration('5x'), /parse error/);
  });

  it('update sizes take binary units; only given flags become resources', () => {
    assert.equal(ramInBytes('--memory', '512'), 512);
    assert.equal(ramInBytes('--memory', '64k'), 64 * 1024);
    assert.equal(ramInBytes('--memory', '32m'), 32 << 20);
    assert.equal(ramInBytes('--memory', '1.5GiB'), 1.5 * 2 ** 30);
    assert.throws(() => ramInBytes('--memory', '1x'), /invalid value for --memory/);
    const g = { root: '/tmp', logFormat: 'text' as const };
    assert.deepEqual(resourcesFromFlags({}, g), {});
    assert.deepEqual(resourcesFromFlags({ memory: '32m', memorySwap: '-1', cpuShare: '512', cpuQuota: '-1', pidsLimit: '20' }, g), {
      memory: { limit: 32 << 20, swap: -1 },
      cpu: { shares: 512, quota: -1 },
      pids: { limit: 20 },
    });
    assert.deepEqual(resourcesFromFlags({ cpuShares: '256', cpusetCpus: '0-1', blkioWeight: '500' }, g), {
      cpu: { cpus: '0-1', shares: 256 },
      blockIO: { weight: 500 },
    });
    assert.throws(() => resourcesFromFlags({ cpuPeriod: '-5' }, g), /invalid value for --cpu-period/);
  });
});

for (const rt of [RUNC, OURS]) {
  describe(`runtime CLI contract (${rt.name})`, { skip: rt === RUNC && !haveRunc() && 'runc is not installed' }, () => {
    it('global flags in --flag=value form; errors as JSON lines in --log and on stderr', () => {
      const sb = new Sandbox(rt);
      try {
        const log = join(sb.dir, 'log.json');
        const r = raw(rt, [`--root=${sb.root}`, `--log=${log}`, '--log-format=json', 'state', 'mydocker-nosuch']);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /does not exist/);
        const lines = logLines(log);
        const errors = lines.filter((l) => l.level === 'error');
        assert.equal(errors.length, 1, JSON.stringify(lines));
        assert.match(errors[0]!.msg, /does not exist/);
        // The shim matches "does not exist" (delete) and "container not running" (kill) by substring.
        const k = raw(rt, ['--root', sb.root, '--log', log, '--log-format', 'json', 'kill', 'mydocker-nosuch', '9']);
        assert.equal(k.status, 1);
        assert.match(logLines(log).at(-1)!.msg, /does not exist/);
      } finally {
        assert.deepEqual(sb.cleanup(), []);
      }
    });

    it('delete --force of a missing container succeeds silently', () => {
      const sb = new Sandbox(rt);
      try {
        const r = sb.run(['delete', '--force', 'mydocker-nosuch']);
        assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', '']);
      } finally {
        assert.deepEqual(sb.cleanup(), []);
      }
    });

    it('ps --format json, update (stdin and flags), events --stats, kill after exit', async () => {
      const sb = new Sandbox(rt);
      try {
        const id = sb.track(uniqueId(`cli-${rt.name}`));
        const config = baseConfig(['sleep', '1000']);
        config.linux.cgroupsPath = `/${PARENT}/${id}`;
        const log = join(sb.dir, 'log.json');
        const g = ['--log', log, '--log-format', 'json'];
        assert.equal(sb.run([...g, 'run', '-d', '-b', sb.bundle(config), id], { detached: true }).status, 0);
        const pid = sb.state(id).pid as number;

        // go-runc Ps() parses stdout+stderr combined: a bare JSON array, nothing else.
        const ps = sb.run([...g, 'ps', '--format', 'json', id]);
        assert.equal(ps.status, 0, ps.stderr);
        assert.equal(ps.stderr, '');
        const pids = JSON.parse(ps.stdout);
        assert.ok(Array.isArray(pids) && pids.includes(pid), ps.stdout);
        const table = sb.run(['ps', id]);
        assert.equal(table.status, 0, table.stderr);
        assert.match(table.stdout.split('\n')[0]!, /\bPID\b/);
        assert.ok(table.stdout.split('\n').some((l) => l.includes(String(pid)) && l.includes('sleep')), table.stdout);

        // update --resources -: LinuxResources JSON on stdin (go-runc Update), then runc's flags.
        const memDir = `/sys/fs/cgroup/memory/${PARENT}/${id}`;
        const hasV1Memory = existsSync(join(memDir, 'memory.limit_in_bytes'));
        const up = sb.run([...g, 'update', '--resources', '-', id], { input: JSON.stringify({ memory: { limit: 64 << 20 } }) });
        assert.equal(up.status, 0, up.stderr);
        if (hasV1Memory) assert.equal(readFileSync(join(memDir, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
        const up2 = sb.run(['update', '--memory', '32m', '--pids-limit', '20', id]);
        assert.equal(up2.status, 0, up2.stderr);
        if (hasV1Memory) assert.equal(readFileSync(join(memDir, 'memory.limit_in_bytes'), 'utf8').trim(), String(32 << 20));
        const pidsMax = `/sys/fs/cgroup/pids/${PARENT}/${id}/pids.max`;
        if (existsSync(pidsMax)) assert.equal(readFileSync(pidsMax, 'utf8').trim(), '20');

        // events --stats: one runc-format line (go-runc Stats()).
        const ev = sb.run(['events', '--stats', id]);
        assert.equal(ev.status, 0, ev.stderr);
        const lines = ev.stdout.split('\n').filter(Boolean);
        assert.equal(lines.length, 1, ev.stdout);
        const event = JSON.parse(lines[0]!);
        assert.equal(event.type, 'stats');
        assert.equal(event.id, id);
        assert.ok(event.data.memory.usage.usage > 0, lines[0]);
        assert.ok(event.data.pids.current >= 1, lines[0]);

        assert.deepEqual(logLines(log).filter((l) => l.level === 'error'), [], 'no error lines after successful calls');

        // After the exit, kill says runc's "container not running" (the shim maps it to
        // "process already finished"); delete then removes it.
        assert.equal(sb.run(['kill', id, 'KILL']).status, 0);
        await waitFor(() => sb.state(id)?.status === 'stopped', 10_000, 'stopped');
        const again = sb.run([...g, 'kill', id, '9']);
        assert.equal(again.status, 1);
        assert.match(again.stderr, /container not running/);
        assert.match(logLines(log).at(-1)!.msg, /container not running/);
        assert.equal(sb.run(['delete', id]).status, 0);
      } finally {
        assert.deepEqual(sb.cleanup(), []);
      }
    });

    if (rt === OURS) {
      it('checkpoint and restore fail with a clear "not supported"', () => {
        const sb = new Sandbox(rt);
        try {
          const log = join(sb.dir, 'log.json');
          for (const verb of [
            ['checkpoint', '--image-path', join(sb.dir, 'img'), '--work-path', join(sb.dir, 'work'), '--leave-running', 'mydocker-x'],
            ['restore', '--detach', '--pid-file', join(sb.dir, 'p'), '--no-subreaper', '--image-path', join(sb.dir, 'img'), '--bundle', sb.dir, 'mydocker-x'],
          ]) {
            const r = sb.run(['--log', log, '--log-format', 'json', ...verb]);
            assert.equal(r.status, 1);
            assert.match(r.stderr, /not supported/);
            assert.match(logLines(log).at(-1)!.msg, /not supported/);
          }
        } finally {
          assert.deepEqual(sb.cleanup(), []);
        }
      });
    }
  });
}
