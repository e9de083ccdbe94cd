// Faults and races: a runtime killed in the middle of create, a dead init, concurrent
// creates of one id and of many ids. Afterwards nothing may be left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, cleanEnv, leftoverCgroups, OURS, Sandbox, uniqueId, waitFor } from '../helpers/runtime.js';

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
