// User namespaces, made by the native init: the maps the runtime writes while the init waits,
// files created in the container owned by the mapped host ids, a user namespace joined by
// path, exec into a container with one, id-mapped mounts, a time namespace. runc runs the
// same scenario first where it can (it has no id-mapped mounts or time namespaces in 1.1).
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, haveRunc, OURS, RUNC, type Runtime, uniqueId, withSandbox } from '../helpers/runtime.js';

const noRunc = (rt: Runtime) => rt === RUNC && !haveRunc() && 'runc is not installed';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function withUserns(config: any, uidBase = 100000, gidBase = 200000): any {
  config.linux.namespaces.push({ type: 'user' });
  config.linux.uidMappings = [{ containerID: 0, hostID: uidBase, size: 65536 }];
  config.linux.gidMappings = [{ containerID: 0, hostID: gidBase, size: 65536 }];
  return config;
}

describe('user namespaces', () => {
  for (const rt of [RUNC, OURS]) {
    it(`maps ids as configured; files made inside belong to the mapped host ids (${rt.name})`, { skip: noRunc(rt) }, withSandbox(rt, (sb) => {
      const shared = mkdtempSync(join(sb.dir, 'shared-'));
      chmodSync(shared, 0o777);
      const config = withUserns(baseConfig(['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; touch /home/made-inside; mkdir /home/dir; echo ok']));
      config.mounts.push({ destination: '/home', type: 'bind', source: shared, options: ['rbind', 'rw'] });
      const r = sb.run(['run', '-b', sb.bundle(config), sb.track(uniqueId('userns'))]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['0 100000 65536', '0 200000 65536', '0', '0', 'ok', '']);
      for (const name of ['made-inside', 'dir']) {
        const st = statSync(join(shared, name));
        assert.deepEqual([st.uid, st.gid], [100000, 200000], name);
      }
    }));
  }

  for (const rt of [RUNC, OURS]) {
    it(`exec joins the container's user namespace (${rt.name})`, { skip: noRunc(rt) }, withSandbox(rt, (sb) => {
      const id = sb.track(uniqueId('usernsexec'));
      assert.equal(sb.run(['run', '-d', '-b', sb.bundle(withUserns(baseConfig(['sleep', '1000']))), id], { detached: true }).status, 0);
      const init = sb.state(id).pid;
      const r = sb.run(['exec', '--user', '1000:1000', id, 'sh', '-c', 'cat /proc/self/uid_map; id -u; readlink /proc/self/ns/user']);
      assert.equal(r.status, 0, r.stderr);
      const [map, uid, ns] = r.stdout.trim().split('\n');
      assert.equal(map!.trim().split(/\s+/).join(' '), '0 100000 65536');
      assert.equal(uid, '1000');
      assert.equal(ns, readlinkNs(init, 'user'), 'the init\'s user namespace');
      // The container's process runs as the mapped host uid.
      assert.match(readFileSync(`/proc/${init}/status`, 'utf8'), /^Uid:\t100000\t100000\t100000\t100000$/m);
    }));
  }

  it('joins a user namespace by path (ours)', withSandbox(OURS, (sb) => {
    const a = sb.track(uniqueId('usernsa'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(withUserns(baseConfig(['sleep', '1000']))), a], { detached: true }).status, 0);
    const pidA = sb.state(a).pid;
    const b = sb.track(uniqueId('usernsb'));
    const config = baseConfig(['sh', '-c', 'cat /proc/self/uid_map; readlink /proc/self/ns/user; touch /tmp/x && stat -c %u /tmp/x']);
    config.linux.namespaces.push({ type: 'user', path: `/proc/${pidA}/ns/user` });
    const r = sb.run(['run', '-b', sb.bundle(config), b]);
    assert.equal(r.status, 0, r.stderr);
    const [map, ns, owner] = r.stdout.trim().split('\n');
    assert.equal(map!.trim().split(/\s+/).join(' '), '0 100000 65536');
    assert.equal(ns, readlinkNs(pidA, 'user'));
    assert.equal(owner, '0');
  }));

  it('refuses a mount the user namespace cannot make, by name, before anything runs', withSandbox(OURS, (sb) => {
    const config = withUserns(baseConfig(['true']));
    config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
    const id = sb.track(uniqueId('usernssys'));
    const r = sb.run(['run', '-b', sb.bundle(config), id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config\.json: \/mounts\/5: a user namespace cannot mount sysfs .*without a network namespace of its own/);
    assert.equal(sb.state(id), null);
  }));
});

function readlinkNs(pid: number, type: string): string {
  return readlinkSync(`/proc/${pid}/ns/${type}`);
}

describe('id-mapped mounts', () => {
  it('a bind with uidMappings shows the files under the mapped ids (ours; runc 1.1 has none)', withSandbox(OURS, (sb) => {
    const host = mkdtempSync(join(tmpdir(), 'mydocker-test-idmap-'));
    chmodSync(host, 0o755); // mapped, its owner is 1000 in the container: others must be able to look
    try {
      writeFileSync(join(host, 'owned-by-1000'), 'x');
      chownSync(join(host, 'owned-by-1000'), 1000, 1000);
      writeFileSync(join(host, 'owned-by-0'), 'y');
      const config = baseConfig(['sh', '-c', 'stat -c "%n %u %g" /plain/owned-by-0 /plain/owned-by-1000 /mapped/owned-by-0 /mapped/owned-by-1000']);
      config.mounts.push({ destination: '/plain', type: 'bind', source: host, options: ['rbind', 'ro'] });
      // On-disk id 0 appears as 1000, on-disk 1000 as 1001 (container id c is host id c + 1000).
      config.mounts.push({
        destination: '/mapped',
        type: 'bind',
        source: host,
        options: ['rbind', 'ro', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 1000, size: 2 }],
        gidMappings: [{ containerID: 0, hostID: 1000, size: 2 }],
      });
      const r = sb.run(['run', '-b', sb.bundle(config), sb.track(uniqueId('idmap'))]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [
        '/plain/owned-by-0 0 0',
        '/plain/owned-by-1000 1000 1000',
        '/mapped/owned-by-0 1000 1000',
        '/mapped/owned-by-1000 65534 65534',
      ]);
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  }));
});

describe('time namespaces', () => {
  it('timeOffsets move the container\'s boottime clock (ours; runc 1.1 has none)', withSandbox(OURS, (sb) => {
    const config = baseConfig(['cat', '/proc/uptime']);
    config.linux.namespaces.push({ type: 'time' });
    config.linux.timeOffsets = { boottime: { secs: 86400 * 1000, nanosecs: 0 } };
    const r = sb.run(['run', '-b', sb.bundle(config), sb.track(uniqueId('timens'))]);
    assert.equal(r.status, 0, r.stderr);
    const inside = Number(r.stdout.split(' ')[0]);
    const host = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    assert.ok(inside - host > 86400 * 999, `uptime inside ${inside}, on the host ${host}`);
  }));
});
