// Rootless: an unprivileged user (made by the test, removed after it) runs a busybox container
// with `spec --rootless`'s config: a user namespace mapping that user to root, no cgroup (said
// so), no host root anywhere. runc runs the same as the control.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, cleanEnv, haveRunc, processesRootedUnder, ROOTFS } from '../helpers/runtime.js';

const NAME = `mydocker-rl-${process.pid}`.slice(0, 31);
let uid = -1;
let gid = -1;
let dir = '';

/** Run `argv` as the test's unprivileged user. */
function asUser(argv: string[], opts: { cwd?: string; detached?: boolean } = {}) {
  const r = spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--', ...argv], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: opts.cwd ?? dir,
    // A created container keeps the runtime's stdio: pipes would never reach EOF.
    ...(opts.detached ? { stdio: 'ignore' as const } : {}),
    env: { ...cleanEnv(), HOME: dir, XDG_RUNTIME_DIR: '' },
  });
  if (r.error) throw r.error;
  return r;
}

const haveTools = spawnSync('useradd', ['--help']).status === 0 && spawnSync('setpriv', ['--version']).status === 0;

describe('rootless: an unprivileged user runs a container', { skip: !haveTools && 'useradd or setpriv missing' }, () => {
  before(() => {
    const add = spawnSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', NAME], { encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    uid = Number(spawnSync('id', ['-u', NAME], { encoding: 'utf8' }).stdout);
    gid = Number(spawnSync('id', ['-g', NAME], { encoding: 'utf8' }).stdout);
    dir = mkdtempSync(join(tmpdir(), 'mydocker-test-rootless-'));
    chmodSync(dir, 0o755);
    chownSync(dir, uid, gid);
  });

  after(() => {
    try {
      for (const root of ['ours', 'runc']) {
        const state = join(dir, root);
        if (!existsSync(state)) continue;
        for (const id of readdirSync(state)) {
          asUser(root === 'ours' ? [process.execPath, CLI, '--root', state, 'delete', '--force', id] : ['runc', '--root', state, 'delete', '--force', id]);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      spawnSync('userdel', [NAME]);
    }
  });

  /** A bundle of `spec --rootless` (written by the user), on the shared busybox rootfs. */
  function bundle(name: string, args: string[]): string {
    const b = join(dir, name);
    mkdirSync(b);
    chownSync(b, uid, gid);
    const spec = asUser([process.execPath, CLI, 'spec', '--rootless', '--bundle', b]);
    assert.equal(spec.status, 0, spec.stderr);
    const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
    config.root = { path: ROOTFS, readonly: true };
    config.process.terminal = false;
    config.process.args = args;
    writeFileSync(join(b, 'config.json'), JSON.stringify(config));
    return b;
  }

  const probe = 'id -u; id -g; cat /proc/self/uid_map; echo pid=$$; hostname';
  const expected = (host: number) => ['0', '0', `0 ${host} 1`, 'pid=1', 'mydocker'];
  const lines = (s: string) => s.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));

  it('runc (control)', { skip: !haveRunc() && 'runc is not installed' }, () => {
    const r = asUser(['runc', '--root', join(dir, 'runc'), 'run', '-b', bundle('runc-run', ['sh', '-c', probe]), `${NAME}-runc`]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), expected(uid));
  });

  it('ours: run, with the missing cgroup said once', () => {
    const r = asUser([process.execPath, CLI, '--root', join(dir, 'ours'), 'run', '-b', bundle('ours-run', ['sh', '-c', probe]), `${NAME}-run`]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), expected(uid));
    assert.match(r.stderr, /^mydocker-runc: warning: rootless: the container has no cgroup of its own/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('ours: create, exec, kill, delete — nothing of the host reachable, nothing left', () => {
    const root = join(dir, 'ours');
    const id = `${NAME}-life`;
    const b = bundle('ours-life', ['sleep', '1000']);
    const rt = (...args: string[]) => asUser([process.execPath, CLI, '--root', root, ...args]);
    assert.equal(asUser([process.execPath, CLI, '--root', root, 'create', '-b', b, id], { detached: true }).status, 0);
    assert.equal(rt('start', id).status, 0);
    const state = JSON.parse(rt('state', id).stdout);
    assert.equal(state.status, 'running');
    // The container's process is the user's, on the host.
    assert.match(readFileSync(`/proc/${state.pid}/status`, 'utf8'), new RegExp(`^Uid:\\t${uid}\\t`, 'm'));
    const ex = rt('exec', id, 'sh', '-c', 'id -u; cat /proc/self/uid_map; cat /proc/1/cmdline | tr "\\0" " "');
    assert.equal(ex.status, 0, ex.stderr);
    assert.deepEqual(lines(ex.stdout), ['0', `0 ${uid} 1`, 'sleep 1000']);
    // A limit would need a cgroup: refused by name, not ignored.
    const limited = bundle('ours-limit', ['true']);
    const config = JSON.parse(readFileSync(join(limited, 'config.json'), 'utf8'));
    config.linux.resources = { memory: { limit: 64 << 20 } };
    writeFileSync(join(limited, 'config.json'), JSON.stringify(config));
    const refused = rt('run', '-b', limited, `${NAME}-limit`);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /\/linux\/resources\/memory: a rootless container has no cgroup of its own/);
    assert.equal(rt('kill', id, 'KILL').status, 0);
    const del = rt('delete', '--force', id);
    assert.equal(del.status, 0, del.stderr);
    assert.deepEqual(readdirSync(root), []);
    assert.deepEqual(processesRootedUnder(ROOTFS).filter((p) => p.includes(String(state.pid))), []);
  });
});
