// Hostile and broken archives: every one is refused with one line naming the archive and
// leaves nothing (no blob, no layer, no temp dir, no index change), and nothing is ever
// written outside the store (a sentinel directory next to it stays as it was).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdirSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/mydocker/errors.js';
import { dockerArchive, hex, image, ociArchive, sha, snapshot, tarOf, testStore, type TEntry } from '../helpers/images.js';

const UP = '../../../../../'; // from a layer's temp dir up to the test's dir, where the sentinel is

/** A 512-byte header block with a base-256 size field (as GNU tar writes huge sizes). */
function headerWithSize(name: string, size: bigint): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  // base-256: 0x80 (positive) or 0xff (negative, two's complement) in the first byte.
  const neg = size < 0n;
  let v = neg ? (1n << 88n) + size : size;
  for (let i = 11; i > 0; i--) {
    h[124 + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  h[124] = neg ? 0xff : 0x80;
  h.write('00000000000\0', 136);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

describe('image store: hostile and broken archives', () => {
  const t = testStore('hostile');
  const sentinel = join(t.dir, 'sentinel');
  let n = 0;
  let baseline = '';
  const sentinelState = () =>
    readdirSync(sentinel)
      .sort()
      .map((f) => `${f}:${lstatSync(join(sentinel, f)).isFile() ? readFileSync(join(sentinel, f), 'utf8') : 'dir'}`)
      .join(',');

  before(async () => {
    mkdirSync(sentinel);
    writeFileSync(join(sentinel, 'file'), 'original');
    // A store with one image in it already, so "no index change" means something.
    const ok = join(t.dir, 'ok.tar');
    writeFileSync(ok, await dockerArchive([image([await tarOf([{ name: 'hello', data: 'hi' }])], { tags: ['ok:1'] })]));
    await t.store.load(ok);
    baseline = snapshot(t.root);
  });
  after(() => t.cleanup());

  /** Load `archive`; it must fail with one line matching `re`, and leave the store and the sentinel unchanged. */
  async function refused(archive: Buffer, re: RegExp, how: 'load' | 'import' = 'load'): Promise<string> {
    const path = join(t.dir, `bad-${++n}.tar`);
    writeFileSync(path, archive);
    let message = '';
    await assert.rejects(how === 'load' ? t.store.load(path) : t.store.importRootfs(path, { ref: 'bad:1' }), (e) => {
      assert.ok(e instanceof InputError, `an InputError, got ${(e as Error)?.stack}`);
      message = e.message;
      assert.ok(!message.includes('\n'), `one line: ${message}`);
      assert.ok(message.startsWith(path), `names the archive: ${message}`);
      assert.match(message, re);
      return true;
    });
    assert.equal(snapshot(t.root), baseline, 'the store is unchanged');
    assert.equal(sentinelState(), 'file:original', 'nothing written outside');
    return message;
  }

  const layerArchive = async (entries: TEntry[]) => dockerArchive([image([await tarOf(entries)], { tags: ['evil:1'] })]);

  it('"../" escapes', async () => {
    await refused(await layerArchive([{ name: `${UP}sentinel/pwned`, data: 'x' }]), /path escapes the layer/);
    await refused(await layerArchive([{ name: 'a/../../x', data: 'x' }]), /path escapes the layer/);
  });

  it('absolute names', async () => {
    await refused(await layerArchive([{ name: `${sentinel}/pwned`, data: 'x' }]), /absolute path/);
  });

  it('a symlink, then a write through it (absolute, relative, a symlinked parent dir)', async () => {
    await refused(await layerArchive([{ name: 'link', type: 'symlink', linkname: sentinel }, { name: 'link/pwned', data: 'x' }]), /link is a symlink \(refusing to write through it\)/);
    await refused(await layerArchive([{ name: 'rel', type: 'symlink', linkname: `${UP}sentinel` }, { name: 'rel/pwned', data: 'x' }]), /rel is a symlink/);
    await refused(
      await layerArchive([{ name: 'a/', type: 'directory' }, { name: 'a/b', type: 'symlink', linkname: sentinel }, { name: 'a/b/c/pwned', data: 'x' }]),
      /a\/b is a symlink/,
    );
    // A symlink to a directory inside the layer is not followed either.
    await refused(await layerArchive([{ name: 'd/', type: 'directory' }, { name: 'e', type: 'symlink', linkname: 'd' }, { name: 'e/f', data: 'x' }]), /e is a symlink/);
    // Whiteouts and opaque markers through a symlink.
    await refused(await layerArchive([{ name: 'w', type: 'symlink', linkname: sentinel }, { name: 'w/.wh.file' }]), /w is a symlink/);
    await refused(await layerArchive([{ name: 'o', type: 'symlink', linkname: sentinel }, { name: 'o/.wh..wh..opq' }]), /o is a symlink/);
  });

  it('hardlinks to outside, absolute, or through a symlink', async () => {
    await refused(await layerArchive([{ name: 'h', type: 'link', linkname: `${UP}sentinel/file` }]), /path escapes the layer/);
    await refused(await layerArchive([{ name: 'h', type: 'link', linkname: `${sentinel}/file` }]), /absolute path/);
    await refused(await layerArchive([{ name: 's', type: 'symlink', linkname: sentinel }, { name: 'h', type: 'link', linkname: 's/file' }]), /s is a symlink/);
    await refused(await layerArchive([{ name: 'h', type: 'link', linkname: 'missing' }]), /hardlink target missing is not in the layer/);
  });

  it('whiteouts named to escape', async () => {
    await refused(await layerArchive([{ name: '.wh...' }]), /invalid whiteout name/);
    await refused(await layerArchive([{ name: 'a/.wh..' }]), /invalid whiteout name/);
    await refused(await layerArchive([{ name: `${UP}.wh.sentinel` }]), /path escapes the layer/);
  });

  it('a final symlink is replaced, never written through', async () => {
    const t2 = testStore('replace');
    try {
      const path = join(t2.dir, 'a.tar');
      writeFileSync(path, await layerArchive([{ name: 'f', type: 'symlink', linkname: join(sentinel, 'file') }, { name: 'f', data: 'pwned' }]));
      await t2.store.load(path);
      const [dir] = await t2.store.layerDirs(t2.store.get('evil:1'));
      assert.equal(readFileSync(join(dir!, 'f'), 'utf8'), 'pwned');
      assert.ok(lstatSync(join(dir!, 'f')).isFile());
      assert.equal(sentinelState(), 'file:original');
    } finally {
      t2.cleanup();
    }
  });

  it('huge and negative sizes', async () => {
    const huge = Buffer.concat([headerWithSize('big', 1n << 60n), Buffer.alloc(1024)]);
    const neg = Buffer.concat([headerWithSize('neg', -5n), Buffer.alloc(1024)]);
    // As a layer (config diff ids match the bytes) and as the archive itself.
    await refused(await dockerArchive([image([huge], { tags: ['evil:1'] })]), /invalid size/);
    await refused(await dockerArchive([image([neg], { tags: ['evil:1'] })]), /invalid size/);
    await refused(huge, /invalid size/);
    await refused(neg, /invalid size/);
  });

  it('truncation at every block boundary and inside blocks, of the archive and of a gzip layer', async () => {
    const layer = await tarOf([{ name: 'a/', type: 'directory' }, { name: 'a/b', data: 'x'.repeat(3000) }, { name: 'c', data: 'y' }]);
    const full = await dockerArchive([image([layer], { tags: ['trunc:1'] })]);
    let cases = 0;
    for (let cut = 512; cut < full.length - 512; cut += 512) {
      await refused(full.subarray(0, cut), /truncated archive|is not in the archive|not valid JSON|digest mismatch|neither a docker-save archive/);
      cases++;
    }
    for (const cut of [1, 100, 513, 1500, full.length - 1030]) {
      await refused(full.subarray(0, cut), /truncated|corrupt/);
      cases++;
    }
    assert.ok(cases > 10);
    const gz = gzipSync(layer);
    const img = image([layer], { tags: ['trunc:1'], gzip: true });
    for (const cut of [10, Math.floor(gz.length / 2), gz.length - 4]) {
      img.layers = [gz.subarray(0, cut)];
      await refused(await dockerArchive([img]), /layer sha256:[0-9a-f]{64}: (corrupt|truncated)/);
    }
  });

  it('digest mismatches: a layer against its diff id, an OCI blob against its name, a config against its name', async () => {
    const good = await tarOf([{ name: 'x', data: 'good' }]);
    const evil = await tarOf([{ name: 'x', data: 'evil' }]);
    const img = image([good], { tags: ['mm:1'] });
    img.layers = [evil];
    await refused(await dockerArchive([img]), /digest mismatch: the config says sha256:[0-9a-f]{64}, the layer's content is sha256:/);
    // Same with the good layer gzip'd, but the gzip holding the evil tar.
    const gz = image([good], { tags: ['mm:1'], gzip: true });
    gz.layers = [gzipSync(evil)];
    await refused(await dockerArchive([gz]), /digest mismatch/);
    await refused(await ociArchive([gz]), /digest mismatch/);
    // An OCI blob whose bytes are not its name's.
    const oci = await ociArchive([image([good], { tags: ['mm:1'] })]);
    const tampered = Buffer.from(oci);
    const at = tampered.indexOf(Buffer.from('good'));
    tampered.write('evil', at);
    await refused(tampered, /blobs\/sha256\/[0-9a-f]{64}: digest mismatch/);
    // A docker config whose name is not its digest.
    const ok = image([good], { tags: ['mm:1'] });
    const entries: TEntry[] = [
      { name: `${hex(sha(good))}/layer.tar`, data: good },
      { name: `${'0'.repeat(64)}.json`, data: ok.config },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${'0'.repeat(64)}.json`, RepoTags: ['mm:1'], Layers: [`${hex(sha(good))}/layer.tar`] }]) },
    ];
    await refused(await tarOf(entries), /digest mismatch/);
  });

  it('not an archive, an archive of nothing known, a manifest naming missing files', async () => {
    await refused(Buffer.from('this is not a tar file at all, just text that goes on for a while'.repeat(20)), /corrupt tar archive|truncated/);
    await refused(await tarOf([{ name: 'hello', data: 'x' }]), /neither a docker-save archive/);
    await refused(await tarOf([{ name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', Layers: [] }]) }]), /names c\.json, which is not in the archive/);
    await refused(gzipSync(Buffer.from('garbage garbage garbage')), /corrupt|truncated/);
  });

  it('import refuses the same hostile entries', async () => {
    await refused(await tarOf([{ name: 'link', type: 'symlink', linkname: sentinel }, { name: 'link/pwned', data: 'x' }]), /link is a symlink/, 'import');
    await refused(await tarOf([{ name: `${UP}sentinel/pwned`, data: 'x' }]), /path escapes the layer/, 'import');
    const rootfs = await tarOf([{ name: 'bin/', type: 'directory' }, { name: 'bin/sh', data: 'x'.repeat(2000) }]);
    await refused(rootfs.subarray(0, 1024), /truncated/, 'import');
    await refused(rootfs.subarray(0, rootfs.length - 1024), /truncated archive \(no end-of-archive block\)/, 'import');
  });

  it('a refused xz/zstd archive stops its decompressor: the process exits (one line, non-zero)', async () => {
    const entries: TEntry[] = [{ name: 'link', type: 'symlink', linkname: sentinel }, { name: 'link/pwned', data: 'x' }];
    for (let i = 0; i < 2000; i++) entries.push({ name: `f${i}`, data: Buffer.alloc(20000, i) });
    const tar = await tarOf(entries);
    const STORE = fileURLToPath(new URL('../../src/mydocker/images/store.js', import.meta.url));
    const PATHS = fileURLToPath(new URL('../../src/mydocker/paths.js', import.meta.url));
    for (const [tool, args] of [['xz', ['-0', '-c']], ['zstd', ['-q', '-c']]] as const) {
      const path = join(t.dir, `hostile.${tool}`);
      writeFileSync(path, spawnSync(tool, args, { input: tar, maxBuffer: 1 << 30 }).stdout);
      const code = `const { ImageStore } = await import(${JSON.stringify(STORE)}); const { DataRoot } = await import(${JSON.stringify(PATHS)});
        try { await new ImageStore(new DataRoot(${JSON.stringify(t.root.lib)})).importRootfs(${JSON.stringify(path)}); } catch (e) { console.error(e.message); process.exitCode = 125; }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.signal, null, `${tool}: the process exited by itself`);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /link is a symlink \(refusing to write through it\)\n$/);
    }
    assert.equal(snapshot(t.root), baseline);
    assert.equal(sentinelState(), 'file:original');
  });
});
