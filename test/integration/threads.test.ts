// Nothing of the host stays within reach of a waiting init. The native init is a single
// thread (no Node worker threads left behind in the runtime's mount namespace, as the Node
// init had), and a container process that may read its /proc files (CAP_SYS_PTRACE gets past
// non-dumpable) finds the container's root and cwd behind /proc/1/{root,cwd}, not the host's.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, OURS, uniqueId, withSandbox } from '../helpers/runtime.js';

describe("the waiting init", () => {
  it("is one thread, with the container's root and cwd, never the host's", withSandbox(OURS, (sb) => {
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
    assert.match(r.stdout, /^threads=1$/m, 'the native init is single-threaded');
  }));
});
