// dist/mydocker-runc.js (src/cli/code-cache.ts) writes a verb's V8 code cache once, and every
// later call of that verb compiles from it: so only a run that did the verb's work may write
// it, never `<verb> --help` or a call that failed. Run against a copy of dist/ in a temp dir,
// so the shared dist/.code-cache is left alone; the verbs used never load koffi.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO } from '../helpers/runtime.js';

describe('code cache', () => {
  let dir = '';
  let cli = '';
  const caches = () => (existsSync(join(dir, 'dist/.code-cache')) ? readdirSync(join(dir, 'dist/.code-cache')).sort() : []);
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mydocker-code-cache-'));
    cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.includes('.code-cache') });
    cli = join(dir, 'dist/mydocker-runc.js');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is not written by --help', () => {
    const res = run('spec', '--help');
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /Usage/);
    assert.deepEqual(caches(), []);
  });

  it('is not written by a call that fails', () => {
    const res = run('--root', join(dir, 'root'), 'spec', '--bundle', join(dir, 'no-such-dir'));
    assert.notEqual(res.status, 0);
    assert.deepEqual(caches(), []);
  });

  it('is written by the first call that succeeds, and used by the next', () => {
    mkdirSync(join(dir, 'b1'));
    mkdirSync(join(dir, 'b2'));
    let res = run('spec', '--bundle', join(dir, 'b1'));
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(caches(), ['cli.js.spec']);
    res = run('spec', '--bundle', join(dir, 'b2'));
    assert.equal(res.status, 0, res.stderr);
    assert.ok(existsSync(join(dir, 'b2/config.json')));
    assert.deepEqual(caches(), ['cli.js.spec']);
  });
});
