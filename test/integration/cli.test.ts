// The CLI verbs that are not the lifecycle: spec, features, list; namespaces joined by path.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateConfig, validateFeatures } from '../../src/spec/validate.js';
import { baseConfig, OURS, ROOTFS, Sandbox, uniqueId } from '../helpers/runtime.js';

describe('spec and features', () => {
  it('spec writes a valid config.json that runs, and refuses to overwrite it', () => {
    const sb = new Sandbox(OURS);
    try {
      const bundle = sb.bundle({});
      const r0 = sb.run(['spec', '--bundle', bundle]);
      assert.equal(r0.status, 1, 'config.json exists already');
      assert.match(r0.stderr, /exists/);
      const fresh = join(sb.dir, 'fresh');
      mkdirSync(fresh);
      assert.equal(sb.run(['spec', '-b', fresh]).status, 0);
      const config = validateConfig(JSON.parse(readFileSync(join(fresh, 'config.json'), 'utf8')));
      config.root.path = ROOTFS;
      config.process!.terminal = false;
      config.process!.args = ['echo', 'from-spec'];
      const id = sb.track(uniqueId('spec'));
      const r = sb.run(['run', '-b', sb.bundle(config), id]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'from-spec\n');
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });

  it('features prints a valid features document', () => {
    const sb = new Sandbox(OURS);
    try {
      const r = sb.run(['features']);
      assert.equal(r.status, 0, r.stderr);
      const f = validateFeatures(JSON.parse(r.stdout));
      assert.ok(f.linux?.namespaces?.includes('pid'));
      assert.ok(f.linux?.namespaces?.includes('user') && f.linux.namespaces.includes('time'), 'the native init makes user and time namespaces');
      assert.equal(f.linux?.mountExtensions?.idmap?.enabled, true);
      assert.ok(f.mountOptions?.includes('rro'));
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });
});

describe('namespaces by path', () => {
  it('a second container joins the first one\'s network and uts namespaces', () => {
    const sb = new Sandbox(OURS);
    try {
      const a = sb.track(uniqueId('nsa'));
      assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '100'])), a], { detached: true }).status, 0);
      const pid = sb.state(a).pid;
      const config = baseConfig(['sh', '-c', 'readlink /proc/self/ns/net; readlink /proc/self/ns/uts; hostname']);
      delete config.hostname; // the joined uts namespace keeps its own
      config.linux.namespaces = config.linux.namespaces.map((n: { type: string }) =>
        n.type === 'network' || n.type === 'uts' ? { type: n.type, path: `/proc/${pid}/ns/${n.type === 'network' ? 'net' : 'uts'}` } : n,
      );
      const b = sb.track(uniqueId('nsb'));
      const r = sb.run(['run', '-b', sb.bundle(config), b]);
      assert.equal(r.status, 0, r.stderr);
      const [net, uts, host] = r.stdout.trim().split('\n');
      assert.equal(net, readlinkSync(`/proc/${pid}/ns/net`));
      assert.equal(uts, readlinkSync(`/proc/${pid}/ns/uts`));
      assert.equal(host, 'busybox');
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });
});
