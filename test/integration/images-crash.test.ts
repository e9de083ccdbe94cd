// Crash safety and concurrency of `load`: a load killed with SIGKILL while it ingests or
// while it unpacks leaves no half blob and no half layer (only a dead temp area, which the
// next operation sweeps), and the same load run again succeeds; three loads of one image at
// once all succeed and unpack each layer exactly once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { dockerArchive, image, tarOf, testStore, type TEntry } from '../helpers/images.js';

const STORE = fileURLToPath(new URL('../../src/mydocker/images/store.js', import.meta.url));
const PATHS = fileURLToPath(new URL('../../src/mydocker/paths.js', import.meta.url));

/** A child process that loads `archive` into the data root `lib`. */
function loader(lib: string, archive: string, env: NodeJS.ProcessEnv = {}) {
  const code = `
    const { ImageStore } = await import(${JSON.stringify(STORE)});
    const { DataRoot } = await import(${JSON.stringify(PATHS)});
    const lines = await new ImageStore(new DataRoot(${JSON.stringify(lib)})).load(${JSON.stringify(archive)});
    console.log(lines.join('\\n'));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
  return { child, done };
}

describe('image store: kill -9 during load, parallel loads', () => {
  const t = testStore('crash');
  const archive = join(t.dir, 'big.tar');
  const FILES = 300;
  before(async () => {
    // Two layers; the first is ~75 MB in 300 files, so that a load takes long enough to be killed in.
    const chunk = Buffer.alloc(256 * 1024, 'z');
    const big: TEntry[] = [{ name: 'big/', type: 'directory' }];
    for (let i = 0; i < FILES; i++) big.push({ name: `big/f${i}`, data: chunk });
    const l1 = await tarOf(big);
    const l2 = await tarOf([{ name: 'small', data: 'x' }]);
    writeFileSync(archive, await dockerArchive([image([l1, l2], { tags: ['big:1'] })]));
  });
  after(() => t.cleanup());

  const tmpEntries = () => (existsSync(t.root.tmp) ? readdirSync(t.root.tmp) : []);
  const inTmp = (re: RegExp) => tmpEntries().some((d) => existsSync(join(t.root.tmp, d)) && readdirSync(join(t.root.tmp, d)).some((f) => re.test(f)));

  for (const phase of [
    { name: 'while it ingests the archive', ready: () => inTmp(/^f0$/) },
    { name: 'while it unpacks a layer', ready: () => inTmp(/^layer-/) },
  ]) {
    it(`SIGKILL ${phase.name}: no half blob or layer; the next load succeeds and sweeps`, async () => {
      const { child, done } = loader(t.root.lib, archive);
      let killed = false;
      for (let i = 0; i < 20000 && child.exitCode === null; i++) {
        if (phase.ready()) {
          child.kill('SIGKILL');
          killed = true;
          break;
        }
        await sleep(1);
      }
      const r = await done;
      assert.ok(killed, `the load was killed in time (it ended with ${r.code}: ${r.out})`);
      assert.equal(r.signal, 'SIGKILL');
      // Nothing under a digest: no blob, no layer, no index entry.
      assert.deepEqual(t.store.blobs.list(), []);
      assert.deepEqual(t.store.layers.list(), []);
      assert.deepEqual(t.store.list(), []);
      assert.ok(tmpEntries().length > 0, 'the dead temp area is there until the next operation');
      // Again, in-process: it sweeps the dead area (and only ours: DataRoot.tmp is shared) and loads.
      mkdirSync(join(t.root.tmp, 'not-ours'));
      assert.deepEqual(await t.store.load(archive), ['Loaded image: big:1']);
      assert.deepEqual(tmpEntries(), ['not-ours']);
      rmdirSync(join(t.root.tmp, 'not-ours'));
      const [dir] = await t.store.layerDirs(t.store.get('big:1'));
      assert.equal(readdirSync(join(dir!, 'big')).length, FILES);
      await t.store.remove('big:1');
      assert.deepEqual(t.store.layers.list(), []);
    });
  }

  it('three loads of one image at once: all succeed, each layer unpacked once', async () => {
    const log = join(t.dir, 'unpacks.log');
    writeFileSync(log, '');
    const loads = [0, 1, 2].map(() => loader(t.root.lib, archive, { MYDOCKER_TEST_UNPACK_LOG: log }));
    const results = await Promise.all(loads.map((l) => l.done));
    for (const r of results) {
      assert.equal(r.code, 0, r.out);
      assert.equal(r.out.trim(), 'Loaded image: big:1');
    }
    const unpacked = readFileSync(log, 'utf8').trim().split('\n').sort();
    assert.equal(unpacked.length, 2, `each of the 2 layers once: ${unpacked.join(', ')}`);
    assert.equal(new Set(unpacked).size, 2);
    assert.equal(t.store.layers.list().length, 2);
    assert.deepEqual(tmpEntries(), []);
  });
});
