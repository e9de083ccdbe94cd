// A container without a mount namespace of its own (the spec allows it): the runtime chroots
// into the rootfs, and the config's mounts are made in the host's mount namespace. runc does
// the same and leaves those mounts behind after delete; ours unmounts exactly what it made —
// after delete, and after a create that failed half-way.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, haveRunc, mountsUnder, OURS, RUNC, type Sandbox, uniqueId, withSandbox } from '../helpers/runtime.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function noMountNs(args: string[]): any {
  const config = baseConfig(args);
  config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount' && n.type !== 'cgroup');
  // Masking and read-only paths would apply to the host's /proc and /sys: refused without one.
  config.linux.maskedPaths = [];
  config.linux.readonlyPaths = [];
  config.root.readonly = false;
  return config;
}

function started(sb: Sandbox, tag: string, config = noMountNs(['sleep', '1000'])): { id: string; rootfs: string } {
  const bundle = sb.bundle(config, { copyRootfs: true });
  const id = sb.track(uniqueId(tag));
  const r = sb.run(['run', '-d', '-b', bundle, id], { detached: true });
  assert.equal(r.status, 0, r.stderr);
  return { id, rootfs: join(bundle, 'rootfs') };
}

describe('no mount namespace', () => {
  it('runc (control): chroots, mounts in the host\'s namespace, and leaves them after delete', { skip: !haveRunc() && 'runc is not installed' }, withSandbox(RUNC, (sb) => {
    const { id, rootfs } = started(sb, 'nomntrunc');
    assert.ok(mountsUnder(rootfs).length >= 5, mountsUnder(rootfs).join('\n'));
    assert.equal(sb.run(['delete', '--force', id]).status, 0);
    const left = mountsUnder(rootfs);
    assert.ok(left.length > 0, 'runc 1.1 leaves them behind (if this changes, good: the test says so)');
    for (const m of left.reverse()) spawnSync('umount', ['-l', m]);
  }));

  it('ours: chroots, exec enters the same root, and delete unmounts what create mounted', withSandbox(OURS, (sb) => {
    const { id, rootfs } = started(sb, 'nomnt');
    const mounted = mountsUnder(rootfs);
    assert.ok(mounted.includes(join(rootfs, 'proc')) && mounted.includes(join(rootfs, 'dev/pts')), mounted.join('\n'));
    const r = sb.run(['exec', id, 'sh', '-c', 'ls /bin/busybox; readlink /proc/self/ns/mnt; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(r.status, 0, r.stderr);
    const [bin, mntns, cmd] = r.stdout.trim().split('\n');
    assert.equal(bin, '/bin/busybox');
    assert.equal(mntns, spawnSync('readlink', ['/proc/self/ns/mnt'], { encoding: 'utf8' }).stdout.trim(), "the host's mount namespace");
    assert.equal(cmd, 'sleep 1000');
    assert.equal(sb.run(['delete', '--force', id]).status, 0);
    assert.deepEqual(mountsUnder(rootfs), []);
  }));

  it('ours: a create that fails half-way unmounts what it had mounted', withSandbox(OURS, (sb) => {
    const config = noMountNs(['true']);
    config.mounts.push({ destination: '/refused', type: 'tmpfs', source: 'tmpfs', options: ['size=not-a-size'] });
    const bundle = sb.bundle(config, { copyRootfs: true });
    const id = sb.track(uniqueId('nomntfail'));
    const r = sb.run(['create', '-b', bundle, id], { detached: true });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /mounts\[8\] tmpfs on \/refused: .*Invalid argument/);
    assert.deepEqual(mountsUnder(join(bundle, 'rootfs')), []);
    assert.equal(sb.state(id), null);
  }));
});
