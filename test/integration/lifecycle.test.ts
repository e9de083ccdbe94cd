// The lifecycle, end to end, on the real kernel: run, create → start → stopped → delete, and
// the same steps with Debian's runc on the same bundle for comparison.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { baseConfig, cleanEnv, haveRunc, OURS, RUNC, Sandbox, uniqueId, waitFor, withSandbox } from '../helpers/runtime.js';

describe('run', () => {
  it('prints hi and exits 0', withSandbox(OURS, (sb) => {
    const id = sb.track(uniqueId('run'));
    const r = sb.run(['run', '-b', sb.bundle(baseConfig(['echo', 'hi'])), id]);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sb.state(id), null, 'run deletes the container afterwards');
  }));

  it('exits with the process status', withSandbox(OURS, (sb) => {
    const id = sb.track(uniqueId('exit3'));
    const r = sb.run(['run', '-b', sb.bundle(baseConfig(['sh', '-c', 'exit 3'])), id]);
    assert.equal(r.status, 3, r.stderr);
  }));

  for (const runtime of [OURS, RUNC]) {
    it(`gives 137 for a process killed by SIGKILL (${runtime.name})`, { skip: runtime === RUNC && !haveRunc() && 'no runc' }, withSandbox(runtime, async (sb) => {
      // PID 1 ignores signals sent from inside its own namespace: the kill comes from outside.
      const id = sb.track(uniqueId('kill9'));
      const [cmd, ...pre] = runtime.argv;
      const child = spawn(cmd!, [...pre, '--root', sb.root, 'run', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], {
        stdio: 'ignore',
        env: cleanEnv(),
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await waitFor(() => sb.state(id)?.status === 'running', 10_000, 'running');
      assert.equal(sb.run(['kill', id, 'KILL']).status, 0);
      assert.equal(await exited, 137);
    }));
  }

  it('keeps the container with --keep', withSandbox(OURS, (sb) => {
    const id = sb.track(uniqueId('keep'));
    const r = sb.run(['run', '--keep', '-b', sb.bundle(baseConfig(['true'])), id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sb.state(id)?.status, 'stopped');
    assert.equal(sb.run(['delete', id]).status, 0);
    assert.equal(sb.state(id), null);
  }));
});

/** create → created → start → running → exits → stopped → delete → gone; returns what was observed. */
async function lifecycle(sb: Sandbox) {
  const id = sb.track(uniqueId(sb.runtime.name));
  const bundle = sb.bundle(baseConfig(['sh', '-c', 'read line; exit 5']));
  const seen: Record<string, unknown> = {};
  const pidFile = join(bundle, 'init.pid');
  // The container's stdin is /dev/null: `read` hits EOF at once after start and the process exits 5.
  const c = sb.run(['create', '--bundle', bundle, '--pid-file', pidFile, id], { detached: true });
  seen.create = c.status;
  const created = sb.state(id);
  seen.createdStatus = created?.status;
  seen.pidMatches = Number(readFileSync(pidFile, 'utf8')) === created?.pid;
  seen.pidFileBare = /^\d+$/.test(readFileSync(pidFile, 'utf8'));
  seen.start = sb.run(['start', id]).status;
  seen.stoppedStatus = (await waitFor(() => (sb.state(id)?.status === 'stopped' ? 'stopped' : null), 10_000, 'stopped')) ?? null;
  seen.deleteStopped = sb.run(['delete', id]).status;
  seen.gone = sb.state(id) === null;
  seen.stateOfGone = sb.run(['state', id]).status;
  return seen;
}

describe('lifecycle', () => {
  it('create → start → stopped → delete (ours)', withSandbox(OURS, async (sb) => {
    const seen = await lifecycle(sb);
    assert.deepEqual(seen, {
      create: 0,
      createdStatus: 'created',
      pidMatches: true,
      pidFileBare: true,
      start: 0,
      stoppedStatus: 'stopped',
      deleteStopped: 0,
      gone: true,
      stateOfGone: 1,
    });
  }));

  it('matches runc step for step', { skip: !haveRunc() && 'runc is not installed' }, async () => {
    const ours = new Sandbox(OURS);
    const runc = new Sandbox(RUNC);
    try {
      assert.deepEqual(await lifecycle(ours), await lifecycle(runc));
    } finally {
      assert.deepEqual([...ours.cleanup(), ...runc.cleanup()], []);
    }
  });

  it('reports running while the process runs, and refuses delete without --force', withSandbox(OURS, async (sb) => {
    const id = sb.track(uniqueId('running'));
    const bundle = sb.bundle(baseConfig(['sleep', '1000']));
    assert.equal(sb.run(['create', '-b', bundle, id], { detached: true }).status, 0);
    assert.equal(sb.run(['start', id]).status, 0);
    assert.equal(sb.state(id).status, 'running');
    const del = sb.run(['delete', id]);
    assert.equal(del.status, 1);
    assert.match(del.stderr, /cannot delete container .* that is not stopped: running/);
    assert.equal(sb.run(['delete', '--force', id]).status, 0);
    assert.equal(sb.state(id), null);
  }));

  it('kill delivers the signal and the container stops', withSandbox(OURS, async (sb) => {
    const id = sb.track(uniqueId('kill'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
    assert.equal(sb.run(['kill', id, 'KILL']).status, 0);
    await waitFor(() => sb.state(id)?.status === 'stopped', 10_000, 'stopped');
    const again = sb.run(['kill', id, '9']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /container not running/);
  }));
});
