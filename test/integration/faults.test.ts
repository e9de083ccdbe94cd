// Faults and races: a runtime killed in the middle of create, a dead init, concurrent
// creates of one id and of many ids. Afterwards nothing may be left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, cleanEnv, leftoverCgroups, OURS, Sandbox, uniqueId, waitFor, withSandbox } from '../helpers/runtime.js';

describe('a runtime killed during create', () => {
  it('while a createRuntime hook runs: delete --force removes everything', async () => {
    const sb = new Sandbox(OURS);
    try {
      const id = sb.track(uniqueId('killed'));
      const marker = join(sb.dir, 'hook.pid');
      const config = baseConfig(['true']);
      // The hook records its pid and blocks: the runtime is then mid-create, with the init
      // spawned, its namespaces made and its cgroup created.
      config.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${marker}; exec sleep 60`] }] };
      const [cmd, ...pre] = OURS.argv;
      const rt = spawn(cmd!, [...pre, '--root', sb.root, 'create', '-b', sb.bundle(config), id], { stdio: 'ignore', env: cleanEnv() });
      const exited = new Promise((r) => rt.on('exit', r));
      await waitFor(() => existsSync(marker) && readFileSync(marker, 'utf8').trim(), 20_000, 'the hook to start');
      const state = sb.state(id);
      assert.equal(state?.status, 'creating');
      const initPid = state.pid;
      assert.ok(initPid > 0);
      rt.kill('SIGKILL');
      await exited;
      process.kill(Number(readFileSync(marker, 'utf8')), 'SIGKILL'); // the orphaned hook
      // The init notices its runtime is gone (EOF on the sync socket) and exits on its own.
      await waitFor(() => !existsSync(`/proc/${initPid}`) || readFileSync(`/proc/${initPid}/stat`, 'utf8').includes(') Z'), 10_000, 'the init to exit');
      assert.equal(sb.state(id)?.status, 'stopped', 'an abandoned create reads as stopped');
      const del = sb.run(['delete', '--force', id]);
      assert.equal(del.status, 0, del.stderr);
      assert.equal(sb.state(id), null);
      assert.deepEqual(leftoverCgroups(id), []);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('at random points: delete --force always cleans up', async () => {
    const sb = new Sandbox(OURS);
    try {
      for (let i = 0; i < 8; i++) {
        const id = sb.track(uniqueId('random'));
        const [cmd, ...pre] = OURS.argv;
        const rt = spawn(cmd!, [...pre, '--root', sb.root, 'create', '-b', sb.bundle(baseConfig(['sleep', '100'])), id], {
          stdio: 'ignore',
          env: cleanEnv(),
        });
        const exited = new Promise((r) => rt.on('exit', r));
        await new Promise((r) => setTimeout(r, 20 + i * 15));
        rt.kill('SIGKILL');
        await exited;
        const del = sb.run(['delete', '--force', id]);
        assert.equal(del.status, 0, `round ${i}: ${del.stderr}`);
        assert.equal(sb.state(id), null, `round ${i}`);
        await waitFor(() => leftoverCgroups(id).length === 0, 5_000, `round ${i}: cgroups of ${id} to go`);
      }
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });
});

describe('concurrency', () => {
  it('20 parallel creates of one id: exactly one succeeds', async () => {
    const sb = new Sandbox(OURS);
    try {
      const id = sb.track(uniqueId('race'));
      const bundle = sb.bundle(baseConfig(['sleep', '100']));
      const results = await Promise.all(Array.from({ length: 20 }, () => sb.runAsync(['create', '-b', bundle, id])));
      const ok = results.filter((r) => r.status === 0);
      assert.equal(ok.length, 1, results.map((r) => r.stderr).join(''));
      for (const r of results.filter((x) => x.status !== 0)) assert.match(r.stderr, /already exists/);
      assert.equal(sb.state(id).status, 'created');
      assert.equal(sb.run(['delete', '--force', id]).status, 0);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('20 different ids in parallel: all succeed and delete cleanly', async () => {
    const sb = new Sandbox(OURS);
    try {
      const bundle = sb.bundle(baseConfig(['sleep', '100']));
      const ids = Array.from({ length: 20 }, () => sb.track(uniqueId('many')));
      const created = await Promise.all(ids.map((id) => sb.runAsync(['create', '-b', bundle, id])));
      assert.deepEqual(created.map((r) => r.status), ids.map(() => 0), created.map((r) => r.stderr).join(''));
      const list = JSON.parse(sb.run(['list', '--format', 'json']).stdout);
      assert.equal(list.length, 20);
      assert.ok(list.every((c: { status: string }) => c.status === 'created'));
      const deleted = await Promise.all(ids.map((id) => sb.runAsync(['delete', '--force', id])));
      assert.deepEqual(deleted.map((r) => r.status), ids.map(() => 0), deleted.map((r) => r.stderr).join(''));
      assert.equal(sb.run(['list', '-q']).stdout, '');
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('a container whose init died reads as stopped and deletes cleanly', async () => {
    const sb = new Sandbox(OURS);
    try {
      const id = sb.track(uniqueId('dead'));
      assert.equal(sb.run(['create', '-b', sb.bundle(baseConfig(['sleep', '100'])), id], { detached: true }).status, 0);
      process.kill(sb.state(id).pid, 'SIGKILL');
      await waitFor(() => sb.state(id)?.status === 'stopped', 10_000, 'stopped');
      assert.equal(sb.run(['start', id]).status, 1);
      assert.equal(sb.run(['delete', id]).status, 0);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });
});

describe('a broken state file', () => {
  it('truncated: state, list and delete name it; delete --force still removes the init, its cgroup and the directory', withSandbox(OURS, async (sb) => {
    const ok = sb.track(uniqueId('intact'));
    const id = sb.track(uniqueId('truncated'));
    for (const c of [ok, id]) assert.equal(sb.run(['create', '-b', sb.bundle(baseConfig(['sleep', '100'])), c], { detached: true }).status, 0);
    const initPid = sb.state(id).pid as number;
    const file = join(sb.root, id, 'state.json');
    const text = readFileSync(file, 'utf8');
    // Cut inside the cgroup record: the pid and its start time are still readable, the paths are not.
    writeFileSync(file, text.slice(0, text.indexOf('"paths"') + 12));

    const state = sb.run(['state', id]);
    assert.equal(state.status, 1);
    assert.equal(state.stderr, `mydocker-runc: container ${id}: state file ${file} is corrupt (truncated or not JSON); \`delete --force ${id}\` removes the container\n`);
    const list = sb.run(['list', '-q']);
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout, `${ok}\n`);
    assert.match(list.stderr, new RegExp(`warning: container ${id}: state file ${file} is corrupt`));
    assert.doesNotMatch(list.stderr + state.stderr, /TypeError|Cannot read/);
    const del = sb.run(['delete', id]);
    assert.equal(del.status, 1);
    assert.match(del.stderr, /is corrupt/);
    assert.ok(existsSync(`/proc/${initPid}`), 'a refused delete kills nothing');

    const forced = sb.run(['delete', '--force', id]);
    assert.equal(forced.status, 0, forced.stderr);
    await waitFor(() => !existsSync(`/proc/${initPid}`) || readFileSync(`/proc/${initPid}/stat`, 'utf8').includes(') Z'), 10_000, 'the init to die');
    assert.equal(existsSync(join(sb.root, id)), false);
    assert.deepEqual(leftoverCgroups(id), []);
    assert.equal(sb.state(ok)?.status, 'created', 'the other container is untouched');
  }));

  it("another runtime's state.json under our root: named by list and state, removed by delete --force", withSandbox(OURS, (sb) => {
    const id = sb.track(uniqueId('foreign'));
    mkdirSync(join(sb.root, id), { recursive: true });
    // runc's own format (libcontainer State): none of our fields.
    const file = join(sb.root, id, 'state.json');
    writeFileSync(file, JSON.stringify({ id, init_process_pid: 1, init_process_start: 7, created: '2026-01-01T00:00:00Z', config: { rootfs: '/' }, cgroup_paths: {} }));
    const list = sb.run(['list', '-q']);
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout, '');
    assert.equal(list.stderr, `mydocker-runc: warning: container ${id}: state file ${file} is not a mydocker-runc state ("version": missing); \`delete --force ${id}\` removes the container\n`);
    const state = sb.run(['state', id]);
    assert.equal(state.status, 1);
    assert.match(state.stderr, /is not a mydocker-runc state/);
    assert.equal(sb.run(['kill', id, 'KILL']).status, 1);
    assert.equal(sb.run(['delete', '--force', id]).status, 0);
    assert.equal(existsSync(join(sb.root, id)), false);
  }));
});
