// CVE-2019-5736, our version of it: while a Node process of ours sits inside a container's
// namespaces (the init of a created container is PID 1 there until `start`), a process in the
// container opens /proc/1/exe, keeps the fd, and once nothing runs that binary any more
// (the init has exec'd the container's program) reopens the fd for writing to overwrite the
// host's node. launch.ts spawns the init (and exec's helper) from a read-only bind mount of
// node in a throwaway mount namespace, so the reopen must fail with EROFS (or ETXTBSY while
// the binary still runs) and the binary must be unchanged.
//
// Safety: the scenario can never touch the real node. The runtime under test is started with
// a private COPY of node, so the init, the exec helper and /proc/1/exe are all that copy; the
// attacking script also checks that its fd is the copy (device and inode) before any write,
// and appends (never truncates). The real node's hash is checked before and after anyway.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, CLI, Sandbox, uniqueId, waitFor, type Runtime } from '../helpers/runtime.js';

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('host binaries stay out of reach (CVE-2019-5736)', () => {
  it('a container process cannot write node through /proc/1/exe of our init', async () => {
    const realNode = realpathSync(process.execPath);
    const realHash = sha256(realNode);
    const nodeDir = mkdtempSync(join(tmpdir(), 'mydocker-test-node-'));
    const nodeCopy = join(nodeDir, 'node');
    copyFileSync(realNode, nodeCopy);
    const copyHash = sha256(nodeCopy);
    const copyStat = statSync(nodeCopy);
    const runtime: Runtime = { name: 'mydocker-runc', argv: [nodeCopy, CLI] };
    const sb = new Sandbox(runtime);
    try {
      const out = join(sb.dir, 'out');
      mkdirSync(out);
      const config = baseConfig(['sleep', '1000']);
      config.mounts.push({ destination: '/home', type: 'bind', source: out, options: ['rbind', 'rw'] });
      const id = sb.track(uniqueId('cve'));
      const created = sb.run(['create', '-b', sb.bundle(config), id], { detached: true });
      assert.equal(created.status, 0, created.stderr);
      const init = sb.state(id).pid as number;
      assert.equal(realpathSync(`/proc/${init}/exe`), nodeCopy, 'the init runs the copy of node');

      // The attacker: CAP_SYS_PTRACE lets it past the init's non-dumpable guard, so only the
      // read-only mount stands between it and the binary.
      const attack = [
        'exec 3</proc/1/exe || { echo open-failed > /home/result; exit 1; }',
        // Never write unless fd 3 is the copy of node this test made.
        `[ "$(stat -L -c '%d %i' /proc/self/fd/3)" = "${copyStat.dev} ${copyStat.ino}" ] || { echo "refused: fd 3 is $(stat -L -c '%d %i' /proc/self/fd/3)" > /home/result; exit 1; }`,
        'echo opened > /home/opened',
        '(echo x >> /proc/self/fd/3) 2> /home/err-running; echo $? > /home/rc-running',
        // The test says "go" once `start` has returned: the init has exec'd and the start CLI
        // (itself the copy of node) has exited, so nothing runs the copy any more.
        'while [ ! -e /home/go ] || [ "$(readlink /proc/1/exe)" != /bin/busybox ]; do sleep 0.01; done',
        '(echo x >> /proc/self/fd/3) 2> /home/err-after; echo $? > /home/rc-after',
        'echo done > /home/result',
      ].join('\n');
      const ex = sb.run(['exec', '-d', '--cap', 'CAP_SYS_PTRACE', id, 'sh', '-c', attack], { detached: true });
      assert.equal(ex.status, 0, ex.stderr);
      await waitFor(() => existsSync(join(out, 'result')) || existsSync(join(out, 'rc-running')), 20_000, 'the attacker to hold /proc/1/exe');
      if (!existsSync(join(out, 'opened'))) assert.fail(`the attacker could not start: ${readFileSync(join(out, 'result'), 'utf8')}`);

      // The init execs the container's program: from now on nothing runs the copy of node.
      assert.equal(sb.run(['start', id]).status, 0);
      writeFileSync(join(out, 'go'), '');
      await waitFor(() => existsSync(join(out, 'result')), 20_000, 'the attack to finish');
      const read = (f: string) => readFileSync(join(out, f), 'utf8').trim();
      assert.equal(read('result'), 'done');
      assert.notEqual(read('rc-running'), '0', 'writing while the init runs node fails');
      assert.match(read('err-running'), /Read-only file system|Text file busy/);
      assert.notEqual(read('rc-after'), '0', 'writing after the init has exec\'d fails');
      assert.match(read('err-after'), /Read-only file system/);
      assert.equal(sha256(nodeCopy), copyHash, 'the copy of node is unchanged');
    } finally {
      const leaks = sb.cleanup();
      rmSync(nodeDir, { recursive: true, force: true });
      assert.equal(sha256(realNode), realHash, 'the real node is unchanged');
      assert.deepEqual(leaks, [], `left behind: ${leaks.join(', ')}`);
    }
  });
});
