// Bad input gets one clear line, a non-zero exit, and leaves nothing behind: no state dir,
// mount, cgroup or process (Sandbox.cleanup checks all four).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, OURS, Sandbox, uniqueId } from '../helpers/runtime.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Config = any;

/** `create` must fail with exactly one stderr line matching `pattern`. */
function refused(name: string, edit: (c: Config, bundle: () => string) => string | void, pattern: RegExp) {
  it(name, () => {
    const sb = new Sandbox(OURS);
    try {
      const config = baseConfig(['true']);
      let bundle = '';
      const custom = edit(config, () => (bundle = sb.bundle(config)));
      bundle ||= sb.bundle(config);
      if (typeof custom === 'string') writeFileSync(join(bundle, 'config.json'), custom);
      const id = sb.track(uniqueId('bad'));
      const r = sb.run(['create', '-b', bundle, id], { detached: true });
      assert.notEqual(r.status, 0, 'create must fail');
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
      assert.match(lines[0]!, pattern);
      assert.equal(sb.state(id), null, 'no container may exist afterwards');
    } finally {
      const leaks = sb.cleanup();
      assert.deepEqual(leaks, [], `left behind: ${leaks.join(', ')}`);
    }
  });
}

describe('bad config', () => {
  refused('malformed JSON', () => '{\n  "ociVersion": "1.2.0",\n  "process": }\n', /config\.json: invalid JSON.*line 3/);
  refused('missing ociVersion', (c) => void delete c.ociVersion, /config\.json: \/ociVersion: is required/);
  refused('wrong type', (c) => void (c.hostname = 5), /config\.json: \/hostname: must be string/);
  refused('negative uid', (c) => void (c.process.user.uid = -1), /config\.json: \/process\/user\/uid: must be >= 0/);
  refused('unknown namespace type', (c) => void c.linux.namespaces.push({ type: 'foo' }), /config\.json: \/linux\/namespaces\/6\/type: must be one of .*"foo"/);
  refused('empty args', (c) => void (c.process.args = []), /config\.json: \/process\/args: must NOT have fewer than 1 items/);
  refused('user namespace', (c) => void c.linux.namespaces.push({ type: 'user' }), /user namespaces are not supported/);
  refused('hostname without a uts namespace', (c) => void (c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== 'uts')), /hostname.*uts namespace/);
  refused('missing rootfs', (c) => void (c.root.path = '/nonexistent/rootfs'), /config\.json: \/root\/path: \/nonexistent\/rootfs does not exist/);
  refused('missing executable', (c) => void (c.process.args = ['/bin/no-such-binary']), /no-such-binary/);
  refused('executable not in PATH', (c) => void (c.process.args = ['no-such-command']), /"no-such-command": executable file not found in \$PATH/);
  refused('unknown capability', (c) => void c.process.capabilities.bounding.push('CAP_FLY'), /CAP_FLY/);
  refused('bad mount source', (c) => void c.mounts.push({ destination: '/x', type: 'bind', source: '/nonexistent', options: ['bind'] }), /mounts\[\d+\] \/nonexistent on \/x: bind source \/nonexistent does not exist/);
  refused('missing config.json', (_c, bundle) => {
    const b = bundle();
    writeFileSync(join(b, 'config.json'), '');
    return '';
  }, /config\.json/);
});

describe('bad arguments', () => {
  it('an unknown id, for every verb that takes one', () => {
    const sb = new Sandbox(OURS);
    try {
      for (const verb of [['start'], ['state'], ['kill'], ['delete'], ['pause'], ['resume']]) {
        const r = sb.run([...verb, 'mydocker-test-nonexistent']);
        assert.equal(r.status, 1, `${verb}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, /container mydocker-test-nonexistent does not exist/, verb.join(' '));
      }
      assert.equal(sb.run(['delete', '--force', 'mydocker-test-nonexistent']).status, 0, 'delete --force of a missing container succeeds');
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('an invalid id', () => {
    const sb = new Sandbox(OURS);
    try {
      for (const id of ['..', 'a/b', '']) {
        const r = sb.run(['create', '-b', sb.bundle(baseConfig()), id]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /container id/, r.stderr);
      }
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('an unknown signal', () => {
    const sb = new Sandbox(OURS);
    try {
      const id = sb.track(uniqueId('sig'));
      assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '100'])), id], { detached: true }).status, 0);
      const r = sb.run(['kill', id, 'SIGFOO']);
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /unknown signal "SIGFOO"/);
      assert.equal(sb.state(id).status, 'running', 'a refused kill changes nothing');
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('an existing id', () => {
    const sb = new Sandbox(OURS);
    try {
      const id = sb.track(uniqueId('dup'));
      const bundle = sb.bundle(baseConfig(['sleep', '100']));
      assert.equal(sb.run(['create', '-b', bundle, id], { detached: true }).status, 0);
      const r = sb.run(['create', '-b', bundle, id], { detached: true });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /container .* already exists/);
      assert.equal(sb.state(id).status, 'created', 'the first container is untouched');
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('an unknown flag or verb', () => {
    const sb = new Sandbox(OURS);
    try {
      const a = sb.run(['create', '--bogus', 'x']);
      assert.equal(a.status, 1);
      assert.match(a.stderr, /unknown option '--bogus'/);
      const b = sb.run(['frobnicate']);
      assert.equal(b.status, 1);
      assert.match(b.stderr, /unknown command 'frobnicate'/);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });
});
