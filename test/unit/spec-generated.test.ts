// The generated types and validators are committed; they must be what schemas/ generates.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../../../', import.meta.url).pathname;

describe('generated spec code', () => {
  it('is current (else: run make gen)', () => {
    const out = mkdtempSync(join(tmpdir(), 'gen-spec-'));
    try {
      execFileSync(process.execPath, [join(root, 'src/build/gen-spec.mjs'), '--out', out], { cwd: root, stdio: 'pipe' });
      for (const f of ['types.ts', 'validators.js', 'validators.d.ts']) {
        const committed = readFileSync(join(root, 'src/spec/generated', f), 'utf8');
        const fresh = readFileSync(join(out, f), 'utf8');
        assert.ok(committed === fresh, `src/spec/generated/${f} is stale: run make gen`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('compiles nothing at run time', () => {
    const js = readFileSync(join(root, 'src/spec/generated/validators.js'), 'utf8');
    assert.doesNotMatch(js, /\bimport\b|\brequire\(/);
  });
});
