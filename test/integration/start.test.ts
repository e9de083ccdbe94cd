// `start` returns once the process runs, and says why when it cannot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseConfig, cleanEnv, OURS, Sandbox, uniqueId } from '../helpers/runtime.js';

describe('start', () => {
  it('reports a failing startContainer hook and leaves a stopped container', () => {
    const sb = new Sandbox(OURS);
    try {
      const config = baseConfig(['sleep', '100']);
      config.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo nope >&2; exit 4'] }] };
      const id = sb.track(uniqueId('startfail'));
      assert.equal(sb.run(['create', '-b', sb.bundle(config), id], { detached: true }).status, 0);
      const r = sb.run(['start', id]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /failed to start: startContainer hook #0 \(\/bin\/sh\): exit status 4: nope/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(sb.state(id).status, 'stopped');
      assert.equal(sb.run(['delete', id]).status, 0);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  // The init writes "0" on exec.fifo, execs, and a short process exits at once: if `start` read
  // the FIFO empty just before, then finds the init gone, what it wrote is still there to read.
  // The knob stalls start between that read and its liveness check (rare without it: seen as
  // "the init exited before start" on a loaded machine, and as a hook failure misreported).
  it('a process that runs and exits before start looks again reads what the init wrote', () => {
    const sb = new Sandbox(OURS);
    try {
      const env = { ...cleanEnv(), MYDOCKER_RUNC_TEST_START_LAG_MS: '300' };
      const r = sb.run(['run', '-b', sb.bundle(baseConfig(['echo', 'hi'])), sb.track(uniqueId('lag'))], { env });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
      const config = baseConfig(['sleep', '100']);
      config.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo nope >&2; exit 4'] }] };
      const id = sb.track(uniqueId('laghook'));
      assert.equal(sb.run(['create', '-b', sb.bundle(config), id], { detached: true }).status, 0);
      const f = sb.run(['start', id], { env });
      assert.equal(f.status, 1);
      assert.match(f.stderr, /failed to start: startContainer hook #0 \(\/bin\/sh\): exit status 4: nope/);
      assert.equal(sb.run(['delete', id]).status, 0);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('a second start is refused', () => {
    const sb = new Sandbox(OURS);
    try {
      const id = sb.track(uniqueId('twice'));
      assert.equal(sb.run(['create', '-b', sb.bundle(baseConfig(['sleep', '100'])), id], { detached: true }).status, 0);
      assert.equal(sb.run(['start', id]).status, 0);
      const again = sb.run(['start', id]);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /cannot start an already running container/);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });
});
