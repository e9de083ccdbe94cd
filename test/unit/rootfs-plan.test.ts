// The rootfs plan is pure: config mounts → flags, data, propagation, recursive attributes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_SLAVE,
} from '../../src/kernel/constants.js';
import { planDevices, planMounts, planRootPropagation } from '../../src/rootfs/plan.js';

describe('planMounts', () => {
  it('splits flags from filesystem data', () => {
    const [m] = planMounts([{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] }], '/b');
    assert.equal(m!.flags & MS_NOSUID, MS_NOSUID);
    assert.equal(m!.data, 'mode=755,size=65536k');
    assert.equal(m!.bind, false);
  });

  it('binds first and applies the other flags in a remount; relative sources are bundle-relative', () => {
    const [m] = planMounts([{ destination: 'data', type: 'none', source: 'vol', options: ['rbind', 'ro', 'nosuid', 'nodev', 'rprivate'] }], '/bundle');
    assert.equal(m!.destination, '/data');
    assert.equal(m!.source, '/bundle/vol');
    assert.equal(m!.flags, MS_BIND | MS_REC);
    assert.equal(m!.remountFlags, MS_RDONLY | MS_NOSUID | MS_NODEV);
    assert.deepEqual(m!.propagation, [MS_PRIVATE | MS_REC]);
  });

  it('later options win over earlier ones (ro then rw)', () => {
    const [m] = planMounts([{ destination: '/x', type: 'tmpfs', options: ['ro', 'noexec', 'rw', 'exec'] }], '/b');
    assert.equal(m!.flags & (MS_RDONLY | MS_NOEXEC), 0);
  });

  it('maps recursive options to mount_setattr attributes', () => {
    const [m] = planMounts([{ destination: '/x', source: '/s', options: ['rbind', 'rro', 'rnosuid', 'rnoatime'] }], '/b');
    assert.equal(m!.recursiveAttr.set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME);
    assert.equal(m!.recursiveAttr.clear, MOUNT_ATTR__ATIME);
    const [n] = planMounts([{ destination: '/x', source: '/s', options: ['rbind', 'rro', 'rrw'] }], '/b');
    assert.equal(n!.recursiveAttr.set, 0);
    assert.equal(n!.recursiveAttr.clear, MOUNT_ATTR_RDONLY);
  });

  it('id-mapped mounts: their own mappings, or the container\'s; binds only', () => {
    const maps = { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 200000, size: 10 }] };
    const [own] = planMounts([{ destination: '/x', source: '/s', options: ['rbind', 'ridmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }], '/b');
    assert.deepEqual(own!.idmap, { uidMap: '0 1000 1\n', gidMap: '0 1000 1\n', recursive: true });
    const [theirs] = planMounts([{ destination: '/x', source: '/s', options: ['bind', 'idmap'] }], '/b', undefined, maps);
    assert.deepEqual(theirs!.idmap, { uidMap: '0 100000 65536\n', gidMap: '0 200000 10\n', recursive: false });
    assert.equal(theirs!.data, '', 'idmap is not a filesystem option');
    assert.throws(() => planMounts([{ destination: '/x', source: '/s', options: ['bind', 'idmap'] }], '/b'), /\/mounts\/0: an id-mapped mount needs uidMappings and gidMappings/);
    assert.throws(() => planMounts([{ destination: '/x', type: 'tmpfs', source: 't', options: ['idmap'] }], '/b', undefined, maps), /\/mounts\/0: id-mapped mounts must be bind mounts/);
  });
});

describe('planDevices and propagation', () => {
  it('gives the default devices unless /dev is bind-mounted from the host', () => {
    const own = planMounts([{ destination: '/dev', type: 'tmpfs', source: 'tmpfs' }], '/b');
    assert.deepEqual(planDevices(own, []).map((d) => d.path), ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
    const host = planMounts([{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }], '/b');
    assert.deepEqual(planDevices(host, []), []);
  });

  it('linux.devices override a default of the same path', () => {
    const d = planDevices([], [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 }]);
    assert.equal(d.find((x) => x.path === '/dev/null')!.fileMode, 0o600);
  });

  it('defaults the root propagation to rslave, as runc', () => {
    assert.equal(planRootPropagation(undefined), MS_SLAVE | MS_REC);
    assert.equal(planRootPropagation('private'), MS_PRIVATE);
    assert.throws(() => planRootPropagation('sideways'), /rootfsPropagation/);
  });
});

describe('LSM labels', () => {
  it('linux.mountLabel becomes a context= option of the filesystems we mount, not of binds or proc', () => {
    const steps = planMounts(
      [
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/data', type: 'bind', source: '/x', options: ['bind'] },
      ],
      '/b',
      'system_u:object_r:container_file_t:s0:c1,c2',
    );
    assert.equal(steps[0]!.data, 'mode=755,context="system_u:object_r:container_file_t:s0:c1,c2"');
    assert.equal(steps[1]!.data, '');
    assert.equal(steps[2]!.data, '');
  });
});
