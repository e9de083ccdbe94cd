// CVE-2019-5736, our version of it: while our init sits inside a container's namespaces (a
// created container's init is PID 1 there until `start`), a process in the container opens
// /proc/1/exe, keeps the fd, and once nothing runs that binary any more (the init has exec'd
// the container's program) reopens the fd for writing to overwrite the host's runtime. The
// runtime runs the native init from a sealed memfd copy of dist/mydocker-runc-init, so what
// the attacker holds is never a host file, and it cannot be written at all (F_SEAL_WRITE).
//
// Safety: the attacking script checks that its fd is a memfd before any write, and appends
// (never truncates); the host's binary is hashed before and after anyway.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, OURS, REPO, uniqueId, waitFor, withSandbox } from '../helpers/runtime.js';

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('host binaries stay out of reach (CVE-2019-5736)', () => {
  it('a container process cannot write the runtime through /proc/1/exe of our init', withSandbox(OURS, async (sb) => {
    const binary = join(REPO, 'dist/mydocker-runc-init');
    const hash = sha256(binary);
    const out = join(sb.dir, 'out');
    mkdirSync(out);
    const config = baseConfig(['sleep', '1000']);
    config.mounts.push({ destination: '/home', type: 'bind', source: out, options: ['rbind', 'rw'] });
    const id = sb.track(uniqueId('cve'));
    const created = sb.run(['create', '-b', sb.bundle(config), id], { detached: true });
    assert.equal(created.status, 0, created.stderr);
    const init = sb.state(id).pid as number;
    assert.match(readlinkSync(`/proc/${init}/exe`), /^\/memfd:mydocker-runc-init \(deleted\)$/, 'the init runs a memfd copy, not the host file');

    // The attacker: CAP_SYS_PTRACE lets it past the init's non-dumpable guard.
    const attack = [
      'exec 3</proc/1/exe || { echo open-failed > /home/result; exit 1; }',
      // Never write unless fd 3 is the memfd (if the protection were gone, refuse, and fail the test).
      'case "$(readlink /proc/self/fd/3)" in /memfd:*) ;; *) echo "refused: fd 3 is $(readlink /proc/self/fd/3)" > /home/result; exit 1;; esac',
      'echo opened > /home/opened',
      '(echo x >> /proc/self/fd/3) 2> /home/err-running; echo $? > /home/rc-running',
      // The test says "go" once `start` has returned: the init has exec'd, nothing runs the copy.
      'while [ ! -e /home/go ] || [ "$(readlink /proc/1/exe)" != /bin/busybox ]; do sleep 0.01; done',
      '(echo x >> /proc/self/fd/3) 2> /home/err-after; echo $? > /home/rc-after',
      'echo done > /home/result',
    ].join('\n');
    const ex = sb.run(['exec', '-d', '--cap', 'CAP_SYS_PTRACE', id, 'sh', '-c', attack], { detached: true });
    assert.equal(ex.status, 0, ex.stderr);
    await waitFor(() => existsSync(join(out, 'result')) || existsSync(join(out, 'rc-running')), 20_000, 'the attacker to hold /proc/1/exe');
    if (!existsSync(join(out, 'opened'))) assert.fail(`the attacker could not start: ${readFileSync(join(out, 'result'), 'utf8')}`);

    assert.equal(sb.run(['start', id]).status, 0);
    writeFileSync(join(out, 'go'), '');
    await waitFor(() => existsSync(join(out, 'result')), 20_000, 'the attack to finish');
    const read = (f: string) => readFileSync(join(out, f), 'utf8').trim();
    assert.equal(read('result'), 'done');
    assert.notEqual(read('rc-running'), '0', 'writing while the init runs fails');
    assert.match(read('err-running'), /Text file busy|Operation not permitted/);
    assert.notEqual(read('rc-after'), '0', "writing after the init has exec'd fails");
    assert.match(read('err-after'), /Operation not permitted/);
    assert.equal(sha256(binary), hash, 'the host binary is unchanged');
  }));
});
