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

/**
 * `kill` and `kill --all` in every state, as containerd's shim and podman use them; the same
 * steps under runc 1.1 and ours must observe the same (rc, status afterwards, what is left).
 * `settle` is not a timing assertion: it only lets a signal that should change nothing have
 * its chance to (a wrong "still created" would then be caught by the comparison with runc).
 */
async function killInEveryState(sb: Sandbox) {
  const settle = () => new Promise((r) => setTimeout(r, 200));
  const status = (id: string) => sb.state(id)?.status ?? 'gone';
  const rc = (args: string[]) => sb.run(args).status;
  const untilNot = (id: string, s: string) => waitFor(() => (status(id) !== s ? status(id) : null), 10_000, `${id} to leave ${s}`);
  const make = (tag: string, args: string[], edit: (c: ReturnType<typeof baseConfig>) => void = () => {}) => {
    const id = sb.track(uniqueId(tag));
    const config = baseConfig(args);
    edit(config);
    assert.equal(sb.run(['create', '-b', sb.bundle(config), id], { detached: true }).status, 0);
    return id;
  };
  const pidsOf = (id: string) => JSON.parse(sb.run(['ps', '--format', 'json', id]).stdout || 'null') ?? [];
  const seen: Record<string, unknown> = {};

  // created: --all with a harmless signal changes nothing; TERM ends the waiting init (runc's
  // Go init exits on it); then the stopped container refuses a plain kill but takes --all.
  const a = make('kcreated', ['sleep', '1000']);
  seen.createdAllUsr1 = [rc(['kill', '--all', a, 'USR1']), (await settle(), status(a))];
  seen.createdUsr1 = [rc(['kill', a, 'USR1']), (await settle(), status(a))];
  seen.createdTerm = [rc(['kill', a, 'TERM']), await untilNot(a, 'created')];
  const stoppedKill = sb.run(['kill', a, 'KILL']);
  seen.stoppedKill = [stoppedKill.status, /container not running/.test(stoppedKill.stderr)];
  seen.stoppedAllKill = rc(['kill', '--all', a, 'KILL']);
  const b = make('kcreatedall', ['sleep', '1000']);
  seen.createdAllKill = [rc(['kill', '--all', b, 'KILL']), await untilNot(b, 'created')];

  // paused: a plain signal leaves it paused, --all thaws it (runc freezes, signals, thaws),
  // and SIGKILL to the init thaws it too so that it can die.
  const c = make('kpaused', ['sleep', '1000']);
  assert.equal(sb.run(['start', c]).status, 0);
  assert.equal(sb.run(['pause', c]).status, 0);
  seen.pausedCont = [rc(['kill', c, 'CONT']), (await settle(), status(c))];
  seen.pausedAllCont = [rc(['kill', '--all', c, 'CONT']), (await settle(), status(c))];
  assert.equal(sb.run(['pause', c]).status, 0);
  seen.pausedKill = [rc(['kill', c, 'KILL']), await untilNot(c, 'paused')];
  const d = make('kpausedall', ['sleep', '1000']);
  assert.equal(sb.run(['start', d]).status, 0);
  assert.equal(sb.run(['pause', d]).status, 0);
  seen.pausedAllKill = [rc(['kill', '--all', d, 'KILL']), await untilNot(d, 'paused')];

  // stopped with a process left in the cgroup: no PID namespace of its own, and the init
  // exits leaving its child behind (a pod sharing a PID namespace looks the same).
  const e = make('kleft', ['sh', '-c', 'sleep 1000 & exit 0'], (config) => {
    config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
  });
  assert.equal(sb.run(['start', e]).status, 0);
  await untilNot(e, 'running');
  seen.leftStatus = status(e);
  seen.leftBefore = pidsOf(e).length;
  seen.leftKill = rc(['kill', e, 'KILL']);
  seen.leftAllKill = rc(['kill', '--all', e, 'KILL']);
  seen.leftAfter = await waitFor(() => (pidsOf(e).length === 0 ? 'empty' : null), 10_000, 'the cgroup to empty');
  seen.leftDelete = rc(['delete', e]);
  return seen;
}

describe('kill in every state, as runc 1.1', () => {
  const expected = {
    createdAllUsr1: [0, 'created'],
    createdUsr1: [0, 'created'],
    createdTerm: [0, 'stopped'],
    stoppedKill: [1, true],
    stoppedAllKill: 0,
    createdAllKill: [0, 'stopped'],
    pausedCont: [0, 'paused'],
    pausedAllCont: [0, 'running'],
    pausedKill: [0, 'stopped'],
    pausedAllKill: [0, 'stopped'],
    leftStatus: 'stopped',
    leftBefore: 1,
    leftKill: 1,
    leftAllKill: 0,
    leftAfter: 'empty',
    leftDelete: 0,
  };
  for (const runtime of [RUNC, OURS]) {
    it(runtime.name, { skip: runtime === RUNC && !haveRunc() && 'runc is not installed' }, withSandbox(runtime, async (sb) => {
      assert.deepEqual(await killInEveryState(sb), expected);
    }));
  }
});
