// The runtime and the native init speak one protocol: the frame types and step opcodes of
// native/protocol.ts must be init.c's, number for number.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FRAME, MAX_PASSED_FDS, MAX_SLOTS, OPS, Plan } from '../../src/process/native/protocol.js';
import { REPO } from '../helpers/runtime.js';

const source = readFileSync(join(REPO, 'src/process/native/init.c'), 'utf8');
const cEnum = (prefix: string) =>
  Object.fromEntries([...source.matchAll(new RegExp(`^\\s*${prefix}_([A-Z0-9_]+) = (\\d+),$`, 'gm'))].map((m) => [m[1]!, Number(m[2])]));

describe('native protocol', () => {
  it('frame types and opcodes are init.c\'s', () => {
    assert.deepEqual(cEnum('FRAME'), { ...FRAME });
    assert.deepEqual(cEnum('OP'), Object.fromEntries(Object.entries(OPS).map(([k, v]) => [k, v[0]])));
    assert.match(source, new RegExp(`#define MAX_SLOTS ${MAX_SLOTS}\\n`));
    assert.match(source, new RegExp(`#define MAX_FDS_IN_PLAN ${MAX_PASSED_FDS}\\n`));
  });

  it('encodes steps as init.c reads them: u32, i64, NUL-terminated strings, lists', () => {
    const p = new Plan();
    p.op('MOUNT').str('src').str('/t').str('').i64(-1).str('d');
    const buf = p.finish();
    const u32 = (o: number) => buf.readUInt32LE(o);
    assert.equal(u32(0), OPS.MOUNT[0]);
    assert.equal(u32(4), 3);
    assert.equal(buf.toString('utf8', 8, 11), 'src');
    assert.equal(buf[11], 0);
    assert.equal(u32(12), 2);
    assert.equal(u32(19), 0, 'an empty string is a length and its NUL');
    assert.equal(buf.readBigInt64LE(24), -1n);
    assert.equal(u32(buf.length - 4), OPS.END[0]);
    assert.throws(() => new Plan().op('CHDIR').str('a\0b'), /NUL/);
    assert.deepEqual(p.listing, ['MOUNT "src" "/t" "" -1 "d"', 'END']);
  });

  it('slots: passed fds first, the init\'s own after them', () => {
    const p = new Plan();
    assert.equal(p.newSlot(), MAX_PASSED_FDS);
    assert.equal(p.passFd(7), 0);
    assert.equal(p.passFd(9), 1);
    assert.equal(p.newSlot(), MAX_PASSED_FDS + 1);
    assert.deepEqual(p.fds, [7, 9]);
  });
});

describe('native protocol: i64', () => {
  it('writes numbers and bigints as the same little-endian two\'s complement', () => {
    for (const v of [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 5, -(2 ** 40) + 3, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      const a = new Plan().i64(v).finish().readBigInt64LE(0);
      assert.equal(a, BigInt(v), String(v));
    }
    assert.equal(new Plan().i64(0xffffffffffffffffn).finish().readBigInt64LE(0), -1n);
  });
});
