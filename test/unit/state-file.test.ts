// state.json checks and what a broken one still tells (no root needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectAfter } from '../../src/container/recover.js';
import { BrokenStateError, parseState } from '../../src/container/store.js';

const good = {
  version: 1,
  id: 'c1',
  ociVersion: '1.2.0',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-01-01T00:00:00Z',
  phase: 'created',
  pid: 42,
  pidStartTime: '123',
  cgroup: { id: 'c1', paths: { memory: '/sys/fs/cgroup/memory/x/c1' }, created: ['/sys/fs/cgroup/memory/x'] },
  namespaces: { pid: '' },
  owner: '',
  pidNamespace: true,
};

describe('state.json', () => {
  it('parses ours', () => {
    assert.equal(parseState(JSON.stringify(good), 'c1', '/s/c1/state.json').pid, 42);
  });

  it('names the file and what is wrong, for truncated, empty and foreign files', () => {
    const text = JSON.stringify(good);
    const cases: [string, RegExp][] = [
      [text.slice(0, 50), /^container c1: state file \/s\/c1\/state\.json is corrupt \(truncated or not JSON\)/],
      ['', /is corrupt \(empty\)/],
      ['[]', /is not a mydocker-runc state \(the document: not an object\)/],
      [JSON.stringify({ id: 'c1', init_process_pid: 5 }), /\("version": missing\)/],
      [JSON.stringify({ ...good, pid: 'x' }), /\("pid": not a pid\)/],
      [JSON.stringify({ ...good, cgroup: null }), /\("cgroup": not a cgroup record\)/],
      [JSON.stringify({ ...good, phase: 'running' }), /\("phase": neither/],
    ];
    for (const [t, re] of cases) {
      assert.throws(() => parseState(t, 'c1', '/s/c1/state.json'), (e: Error) => e instanceof BrokenStateError && re.test(e.message));
    }
  });

  it('a whole cgroup record is recovered from a truncated file; a cut one is not', () => {
    const text = JSON.stringify(good);
    assert.deepEqual(objectAfter(text.slice(0, text.indexOf('"namespaces"')), '"cgroup"'), good.cgroup);
    assert.equal(objectAfter(text.slice(0, text.indexOf('"created":[')), '"cgroup"'), undefined);
    assert.equal(objectAfter('{"cgroup": "x"}', '"cgroup"'), undefined);
    assert.deepEqual(objectAfter('{"cgroup":{"id":"a}\\"{"}}', '"cgroup"'), { id: 'a}"{' });
  });
});
