// loadBundle: config.json found and validated, root.path resolved against the bundle.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { absoluteDestination, loadBundle } from '../../src/spec/bundle.js';
import { defaultSpec } from '../../src/spec/defaults.js';

const tmp = mkdtempSync(join(tmpdir(), 'spec-bundle-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function bundle(name: string, config: unknown, rootfs: string | null = 'rootfs'): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  if (rootfs) mkdirSync(join(dir, rootfs), { recursive: true });
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

describe('loadBundle', () => {
  it('loads a bundle and makes the rootfs absolute', () => {
    const dir = bundle('ok', defaultSpec());
    const b = loadBundle(dir);
    assert.equal(b.bundle, dir);
    assert.equal(b.rootfs, join(dir, 'rootfs'));
    assert.equal(b.config.root.path, b.rootfs);
  });

  it('resolves a relative root.path against the bundle, not the cwd', () => {
    const dir = bundle('rel', defaultSpec());
    const cwd = process.cwd();
    const elsewhere = join(tmp, 'elsewhere');
    mkdirSync(join(elsewhere, 'rootfs'), { recursive: true }); // a decoy next to the cwd
    process.chdir(elsewhere);
    try {
      assert.equal(loadBundle(dir).rootfs, join(dir, 'rootfs'));
      // A relative bundle argument is the one thing resolved against the cwd.
      assert.equal(loadBundle(join('..', 'rel')).rootfs, join(dir, 'rootfs'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('says when config.json is missing', () => {
    const dir = bundle('noconfig', undefined);
    assert.throws(() => loadBundle(dir), new ConfigError(`bundle ${dir}: config.json not found`));
    assert.throws(() => loadBundle(join(tmp, 'nope')), new ConfigError(`bundle ${join(tmp, 'nope')}: config.json not found`));
  });

  it('says when the rootfs is missing or not a directory', () => {
    const dir = bundle('norootfs', defaultSpec(), null);
    assert.throws(() => loadBundle(dir), new ConfigError(`config.json: /root/path: ${join(dir, 'rootfs')} does not exist`));
    writeFileSync(join(dir, 'rootfs'), '');
    assert.throws(() => loadBundle(dir), new ConfigError(`config.json: /root/path: ${join(dir, 'rootfs')} is not a directory`));
  });

  it('reports malformed JSON and schema errors with the field', () => {
    assert.throws(() => loadBundle(bundle('badjson', '{\n  "ociVersion": "1.2.0",\n}')), {
      message: 'config.json: invalid JSON: Unexpected token } at line 3 column 1',
    });
    const spec: any = defaultSpec();
    delete spec.root;
    assert.throws(() => loadBundle(bundle('noroot', spec)), { message: 'config.json: /root: is required' });
  });

  it('makes relative mount destinations absolute from "/"', () => {
    const spec = defaultSpec();
    spec.mounts!.push({ destination: 'data/x', type: 'tmpfs', source: 'tmpfs' });
    const b = loadBundle(bundle('reldest', spec));
    assert.equal(b.config.mounts!.at(-1)!.destination, '/data/x');
    assert.equal(absoluteDestination('../../etc'), '/etc');
  });
});
