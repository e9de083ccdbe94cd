// The tar format layer: PAX records byte-exact for binary xattrs (lengths across digit
// boundaries), and a round trip through tar-stream's writer and our reader.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { headerXattrs, readTar, tarWriter, writeEntry, xattrPax, type TarHeader } from '../../src/mydocker/images/tar.js';

async function roundTrip(headers: { h: TarHeader; data?: Buffer }[]): Promise<{ h: TarHeader; data: Buffer }[]> {
  const pack = tarWriter();
  const sink = new PassThrough();
  pack.pipe(sink);
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => sink.on('end', r));
  for (const { h, data } of headers) await writeEntry(pack, h, data);
  pack.finalize();
  await ended;
  const input = new PassThrough();
  input.end(Buffer.concat(chunks));
  const out = [];
  for await (const { header, body } of readTar(input, 'test')) {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c);
    out.push({ h: header, data: Buffer.concat(parts) });
  }
  return out;
}

describe('tar format', () => {
  it('binary xattr values survive PAX, whatever their length', async () => {
    const base = { mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), type: 'file' as const };
    const cases = [1, 80, 85, 86, 87, 90, 95, 980, 990, 1000].map((n, i) => {
      const v = Buffer.alloc(n);
      for (let j = 0; j < n; j++) v[j] = (j * 37 + i) & 0xff;
      return { h: { ...base, name: `f${i}`, size: 1, pax: xattrPax(new Map([['security.capability', v]])) ?? null }, data: Buffer.from('x'), v };
    });
    const got = await roundTrip(cases);
    assert.equal(got.length, cases.length);
    for (const [i, g] of got.entries()) {
      assert.deepEqual(headerXattrs(g.h).get('security.capability'), cases[i]!.v, `length ${cases[i]!.v.length}`);
      assert.equal(g.data.toString(), 'x');
    }
  });

  it('long names, directories with a slash, symlinks and hardlinks round-trip', async () => {
    const base = { mode: 0o755, uid: 1, gid: 2, mtime: new Date(1_000_000_000), size: 0 };
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    const got = await roundTrip([
      { h: { ...base, name: 'dir', type: 'directory' } },
      { h: { ...base, name: long, type: 'file', size: 3 }, data: Buffer.from('abc') },
      { h: { ...base, name: 'sl', type: 'symlink', linkname: 'x'.repeat(200) } },
      { h: { ...base, name: 'hl', type: 'link', linkname: long } },
    ]);
    assert.deepEqual(
      got.map((g) => [g.h.name, g.h.type, g.h.linkname ?? null, g.h.uid, g.h.gid]),
      [
        ['dir/', 'directory', null, 1, 2],
        [long, 'file', null, 1, 2],
        ['sl', 'symlink', 'x'.repeat(200), 1, 2],
        ['hl', 'link', long, 1, 2],
      ],
    );
  });

  it('a tar cut between two entries is refused (no end-of-archive block)', async () => {
    const pack = tarWriter();
    const chunks: Buffer[] = [];
    pack.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => pack.on('end', r));
    await writeEntry(pack, { name: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: 1 }, Buffer.from('a'));
    pack.finalize();
    await ended;
    const whole = Buffer.concat(chunks);
    const input = new PassThrough();
    input.end(whole.subarray(0, 1024)); // header + one data block, no end blocks
    await assert.rejects(
      (async () => {
        for await (const e of readTar(input, 'cut.tar')) for await (const _ of e.body) void _;
      })(),
      /cut\.tar: truncated archive \(no end-of-archive block\)/,
    );
  });
});

describe('progress renderer', () => {
  it('is silent when the stream is not a tty, draws bars when it is', async () => {
    const { progressRenderer, humanBytes } = await import('../../src/mydocker/images/progress.js');
    const quietOut = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    let wrote = '';
    (quietOut as unknown as PassThrough).on('data', (c: Buffer) => (wrote += c));
    const q = await progressRenderer(quietOut);
    q.onLayer?.({ digest: 'archive', phase: 'Loading', done: 10, total: 100 });
    q.stop();
    assert.equal(wrote, '');
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 100 }) as unknown as NodeJS.WriteStream;
    let drawn = '';
    (tty as unknown as PassThrough).on('data', (c: Buffer) => (drawn += c));
    const r = await progressRenderer(tty);
    r.onLayer?.({ digest: `sha256:${'a'.repeat(64)}`, phase: 'Extracting', done: 1500, total: 3000 });
    r.stop();
    assert.match(drawn, /aaaaaaaaaaaa: Extracting/);
    assert.match(drawn, /1\.50kB\/3\.00kB/);
    assert.equal(humanBytes(999), '999B');
    assert.equal(humanBytes(12_345_678), '12.3MB');
  });
});
