// The six OCI hooks: each at its point of the lifecycle, in its namespaces, with the state on
// stdin; failures fail the operation (and clean up) or only warn, as the spec says; timeouts.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, haveRunc, OURS, RUNC, Sandbox, uniqueId, waitFor, type Runtime } from '../helpers/runtime.js';

/** A hook that appends "<kind> <mnt ns> <state json>" to `log` (a path valid where the hook runs). */
function recorder(kind: string, log: string) {
  return { path: '/bin/sh', args: ['sh', '-c', `printf '%s %s %s\\n' ${kind} "$(readlink /proc/self/ns/mnt)" "$(cat)" >> ${log}`] };
}

async function lifecycleWithHooks(runtime: Runtime) {
  const sb = new Sandbox(runtime);
  try {
    const logDir = join(sb.dir, 'hooklog');
    mkdirSync(logDir);
    const hostLog = join(logDir, 'log');
    const config = baseConfig(['sh', '-c', 'read x']);
    config.mounts.push({ destination: '/hooklog', type: 'bind', source: logDir, options: ['bind'] });
    config.hooks = {
      prestart: [recorder('prestart', hostLog)],
      createRuntime: [recorder('createRuntime', hostLog)],
      createContainer: [recorder('createContainer', hostLog)],
      // startContainer runs inside the container, after pivot_root: its paths are the container's.
      startContainer: [recorder('startContainer', '/hooklog/log')],
      poststart: [recorder('poststart', hostLog)],
      poststop: [recorder('poststop', hostLog)],
    };
    const id = sb.track(uniqueId('hooks'));
    assert.equal(sb.run(['create', '-b', sb.bundle(config), id], { detached: true }).status, 0);
    const pid = sb.state(id).pid;
    assert.equal(sb.run(['start', id]).status, 0);
    await waitFor(() => sb.state(id)?.status === 'stopped', 10_000, 'stopped');
    assert.equal(sb.run(['delete', id]).status, 0);
    const lines = readFileSync(hostLog, 'utf8').trim().split('\n').map((l) => {
      const [kind, ns, ...json] = l.split(' ');
      return { kind, ns, state: JSON.parse(json.join(' ')) };
    });
    return { lines, pid, hostNs: readlinkSync('/proc/self/ns/mnt') };
  } finally {
    assert.deepEqual(sb.cleanup(), []);
  }
}

describe('hooks', () => {
  for (const runtime of [OURS, RUNC]) {
    it(`run in order, in the right namespaces, with the state on stdin (${runtime.name})`, { skip: runtime === RUNC && !haveRunc() && 'no runc' }, async () => {
      const { lines, pid, hostNs } = await lifecycleWithHooks(runtime);
      const order = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
      // runc 1.1 runs poststart without waiting for the exec, racing startContainer; the spec
      // says poststart comes after the process started, which ours waits for.
      const kinds = lines.map((l) => l.kind!);
      if (runtime === RUNC) assert.deepEqual([...kinds].sort(), [...order].sort());
      else assert.deepEqual(kinds, order);
      const byKind = Object.fromEntries(lines.map((l) => [l.kind, l]));
      for (const k of ['prestart', 'createRuntime', 'poststart', 'poststop']) assert.equal(byKind[k].ns, hostNs, `${k} runs in the runtime's namespace`);
      for (const k of ['createContainer', 'startContainer']) assert.notEqual(byKind[k].ns, hostNs, `${k} runs in the container's namespace`);
      assert.equal(byKind.createContainer.ns, byKind.startContainer.ns);
      for (const l of lines) assert.equal(l.state.id.startsWith('mydocker-test-hooks'), true);
      assert.equal(byKind.createRuntime.state.pid, pid);
      assert.equal(byKind.createRuntime.state.status, 'creating');
      assert.equal(byKind.poststop.state.status, 'stopped');
    });
  }

  it('a failing createRuntime hook fails create and leaves nothing', () => {
    const sb = new Sandbox(OURS);
    try {
      const config = baseConfig(['true']);
      config.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo broken >&2; exit 3'] }] };
      const id = sb.track(uniqueId('hookfail'));
      const r = sb.run(['create', '-b', sb.bundle(config), id], { detached: true });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /createRuntime hook #0 \(\/bin\/sh\): exit status 3: broken/);
      assert.equal(sb.state(id), null);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  for (const runtime of [OURS, RUNC]) {
    it(`a failed create runs the poststop hooks, as the lifecycle says (${runtime.name})`, { skip: runtime === RUNC && !haveRunc() && 'no runc' }, () => {
      const sb = new Sandbox(runtime);
      try {
        const log = join(sb.dir, 'poststop.log');
        const config = baseConfig(['true']);
        config.hooks = {
          createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo broken >&2; exit 3'] }],
          poststop: [recorder('poststop', log), { path: '/bin/false' }],
        };
        const id = sb.track(uniqueId('hookstop'));
        const r = sb.run(['create', '-b', sb.bundle(config), id], { detached: true });
        assert.equal(r.status, 1);
        const [kind, , json] = readFileSync(log, 'utf8').trim().split(' ');
        assert.equal(kind, 'poststop');
        assert.equal(JSON.parse(json!).id, id);
        if (runtime === OURS) {
          assert.match(r.stderr, /warning: poststop hook #1 \(\/bin\/false\): exit status 1/);
          assert.match(r.stderr, /createRuntime hook #0 \(\/bin\/sh\): exit status 3: broken/);
        }
        assert.equal(sb.state(id), null);
      } finally {
        assert.deepEqual(sb.cleanup(), []);
      }
    });
  }

  it('a hook past its timeout is killed and fails create', () => {
    const sb = new Sandbox(OURS);
    try {
      const config = baseConfig(['true']);
      config.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
      const id = sb.track(uniqueId('hooktimeout'));
      const r = sb.run(['create', '-b', sb.bundle(config), id], { detached: true });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /prestart hook #0 \(\/bin\/sleep\): timed out after 1s/);
      assert.equal(sb.state(id), null);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('a failing createContainer hook (inside the container namespaces) fails create', () => {
    const sb = new Sandbox(OURS);
    try {
      const config = baseConfig(['true']);
      config.hooks = { createContainer: [{ path: '/bin/false' }] };
      const id = sb.track(uniqueId('hookcc'));
      const r = sb.run(['create', '-b', sb.bundle(config), id], { detached: true });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /createContainer hook #0 \(\/bin\/false\): exit status 1/);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('failing poststart and poststop hooks only warn', async () => {
    const sb = new Sandbox(OURS);
    try {
      const config = baseConfig(['sleep', '100']);
      config.hooks = { poststart: [{ path: '/bin/false' }], poststop: [{ path: '/bin/false' }] };
      const id = sb.track(uniqueId('hookwarn'));
      assert.equal(sb.run(['create', '-b', sb.bundle(config), id], { detached: true }).status, 0);
      const start = sb.run(['start', id]);
      assert.equal(start.status, 0);
      assert.match(start.stderr, /warning: poststart hook #0 \(\/bin\/false\): exit status 1/);
      assert.equal(sb.state(id).status, 'running');
      const del = sb.run(['delete', '--force', id]);
      assert.equal(del.status, 0);
      assert.match(del.stderr, /warning: poststop hook #0/);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });
});
