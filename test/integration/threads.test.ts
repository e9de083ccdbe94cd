// Node's other threads never leave a way into the host. Until our init (or exec helper)
// execs, it runs Node's worker threads too; a container process that may read its /proc
// files (CAP_SYS_PTRACE gets past non-dumpable) must find the container's root and cwd behind
// every /proc/1/task/<tid>/{root,cwd}, not the host's.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, OURS, uniqueId, withSandbox } from '../helpers/runtime.js';

describe('the init\'s other threads', () => {
  it('show the container\'s root and cwd, never the host\'s', withSandbox(OURS, (sb) => {
    // The runtime runs from the sandbox dir, so a thread left with the host's cwd would show
    // this marker; one left with the host's root would show it under its full path.
    writeFileSync(join(sb.dir, 'host-marker'), 'host\n');
    const id = sb.track(uniqueId('threads'));
    const created = sb.run(['create', '-b', sb.bundle(baseConfig(['true'])), id], { detached: true, cwd: sb.dir });
    assert.equal(created.status, 0, created.stderr);
    const probe = [
      'n=0',
      'for t in /proc/1/task/*; do',
      '  n=$((n+1))',
      `  cat $t/cwd/host-marker $t/root${sb.dir}/host-marker 2>/dev/null && echo "LEAK $t"`,
      '  [ -e $t/root/bin/busybox ] || echo "NOROOT $t"',
      'done',
      'echo threads=$n',
    ].join('\n');
    const r = sb.run(['exec', '--cap', 'CAP_SYS_PTRACE', id, 'sh', '-c', probe]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /LEAK|host/, r.stdout);
    assert.doesNotMatch(r.stdout, /NOROOT/, r.stdout);
    assert.ok(Number(/threads=(\d+)/.exec(r.stdout)?.[1]) > 1, `the init runs several threads: ${r.stdout}`);
  }));
});
