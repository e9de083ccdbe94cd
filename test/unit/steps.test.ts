// The plan the native init executes, in the order that matters (runc's): what the host view
// must give first, namespaces (the user namespace's maps before the rest), the fork, the
// rootfs, the cgroup join late, pivot_root, and credentials, capabilities and no_new_privs
// BEFORE "ready" — so that what the host cannot grant fails create — then the FIFO, the
// startContainer hooks, seccomp with no_new_privs last, execve.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InitConfig } from '../../src/process/init-config.js';
import { buildInitConfig, planUserNamespace } from '../../src/process/plan.js';
import { createPlan, execPlan, type HostView } from '../../src/process/steps.js';
import { baseConfig } from '../helpers/runtime.js';

const host: HostView = {
  sourceIsDir: (p) => (p === '/missing' ? undefined : !p.endsWith('.conf')),
  cgroupEntries: () => [{ name: 'cpu', link: 'cpu,cpuacct' }, { name: 'cpu,cpuacct' }, { name: 'memory' }, { name: 'unified' }],
  hasKcore: () => true,
  lastCap: () => 40,
  heldCaps: () => (1n << 41n) - 1n - (1n << 24n), // no CAP_SYS_RESOURCE
  mountPointOf: () => '/',
  apparmorExecAttr: () => '/proc/thread-self/attr/apparmor/exec',
};

function config(edit: (c: ReturnType<typeof baseConfig>) => void = () => {}): InitConfig {
  const spec = baseConfig(['sleep', '1']);
  spec.root.path = '/rootfs';
  spec.process.seccomp = undefined;
  spec.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: [process.arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  spec.hooks = { startContainer: [{ path: '/bin/true' }], createContainer: [{ path: '/bin/true' }] };
  edit(spec);
  return buildInitConfig(spec, {
    id: 'c1',
    bundle: '/b',
    rootfs: '/rootfs',
    fifoPath: '/run/x/c1/exec.fifo',
    cgroups: { procsFiles: () => ['/sys/fs/cgroup/memory/c1/cgroup.procs'], paths: { memory: '/sys/fs/cgroup/memory/c1', 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c1', unified: '/sys/fs/cgroup/unified/c1' } } as never,
  });
}

const ops = (listing: string[]) => listing.map((l) => l.split(' ')[0]!);
const index = (listing: string[], re: RegExp) => {
  const i = listing.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no step matches ${re}:\n${listing.join('\n')}`);
  return i;
};

describe('create plan', () => {
  it('runs the steps in runc\'s order', () => {
    const p = createPlan(config(), {}, host);
    p.finish();
    const l = p.listing;
    const order = [
      /^OPEN \d+ "\/run\/x\/c1\/exec.fifo"/,
      /^OPEN \d+ "\/sys\/fs\/cgroup\/memory\/c1\/cgroup.procs"/,
      /^UNSHARE/,
      /^FORK$/,
      /^SETSID$/,
      /^SYNC "namespaces"$/,
      /^MOUNT "" "\/" ""/,
      /^MOUNT_IN_ROOT \d+ "\/proc"/,
      /^MKNOD_IN_ROOT \d+ "\/dev\/null"/,
      /^SYMLINK_IN_ROOT \d+ "\/dev" "ptmx" "pts\/ptmx" 1/,
      /^HOOK "\/bin\/true"/,
      /^WRITE_SLOT \d+ "0"$/,
      /^UNSHARE 33554432$/, // CLONE_NEWCGROUP, after the cgroup join
      /^PIVOT_ROOT "\/rootfs"$/,
      /^SETHOSTNAME "busybox"$/,
      /^READONLY "\/proc\/bus"$/,
      /^MASK "\/proc\/acpi"$/,
      /^REMOUNT_RO "\/"$/,
      /^SETRLIMIT 7 1024 1024$/,
      /^CLOSE_FROM 3$/,
      /^ENV /,
      /^HOME 0$/,
      /^CAP_BOUNDING /,
      /^SETGROUPS 0$/,
      /^SETRESGID 0$/,
      /^SETRESUID 0$/,
      /^CHDIR "\/"$/,
      /^CAPSET /,
      /^PRCTL 38 1$/, // no_new_privs
      /^LOOKUP "sleep"$/,
      /^REPORT "ready"$/,
      /^WAIT_FIFO \d+$/,
      /^HOOK "\/bin\/true"/,
      /^SECCOMP /, // with no_new_privs: after start, last
      /^RESET_SIGNALS$/,
      /^EXEC \["sleep","1"\]$/,
    ];
    let at = -1;
    for (const re of order) {
      const i = l.findIndex((s, k) => k > at && re.test(s));
      assert.ok(i > at, `${re} after step ${at} (${l[at]}):\n${l.join('\n')}`);
      at = i;
    }
    assert.equal(ops(l).at(-1), 'END');
  });

  it('v1 cgroup view: a tmpfs, a read-only bind per v1 hierarchy, the host\'s links, no unified', () => {
    const p = createPlan(config(), {}, host);
    p.finish();
    const view = p.listing.filter((s) => /^(MOUNT_IN_ROOT|SYMLINK_IN_ROOT|REMOUNT_IN_ROOT) \d+ "\/sys\/fs\/cgroup/.test(s)).map((s) => s.replace(/^(\w+) \d+ /, '$1 R '));
    // 0x20100f: bind, relatime, nosuid, nodev, noexec and read-only (the config's "ro"); 14 keeps nosuid, nodev, noexec.
    assert.deepEqual(view, [
      'MOUNT_IN_ROOT R "/sys/fs/cgroup" 1 "tmpfs" "tmpfs" 2097166 "mode=755"',
      'SYMLINK_IN_ROOT R "/sys/fs/cgroup" "cpu" "cpu,cpuacct" 0',
      'MOUNT_IN_ROOT R "/sys/fs/cgroup/cpu,cpuacct" 1 "/sys/fs/cgroup/cpu,cpuacct/c1" "" 20480 ""',
      'REMOUNT_IN_ROOT R "/sys/fs/cgroup/cpu,cpuacct" 2101263 14',
      'MOUNT_IN_ROOT R "/sys/fs/cgroup/memory" 1 "/sys/fs/cgroup/memory/c1" "" 20480 ""',
      'REMOUNT_IN_ROOT R "/sys/fs/cgroup/memory" 2101263 14',
    ]);
  });

  it('a capability the runtime does not hold is named in the capset step\'s context', () => {
    const p = createPlan(config((c) => c.process.capabilities.permitted.push('CAP_SYS_RESOURCE')), {}, host);
    p.finish();
    const capset = index(p.listing, /^CAPSET /);
    assert.equal(p.listing[capset - 1], 'CONTEXT "process.capabilities.permitted: CAP_SYS_RESOURCE not held by the runtime"');
  });

  it('a user namespace: maps written from outside, then root in it; devices bound, not made; locked flags kept', () => {
    const cfg = config((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts.push({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro'] });
    });
    assert.deepEqual(cfg.userNamespace, { uidMap: '0 100000 65536\n', gidMap: '0 100000 65536\n', setgroupsDeny: false, rootMapped: true });
    const p = createPlan(cfg, {}, host);
    p.finish();
    const l = p.listing;
    assert.ok(index(l, /^UNSHARE 268435456$/) < index(l, /^SYNC "userns"$/));
    assert.ok(index(l, /^SYNC "userns"$/) < index(l, /^SETRESUID 0$/));
    assert.ok(index(l, /^SETRESUID 0$/) < index(l, /^UNSHARE (?!268435456)\d+$/), 'the other namespaces are made by root in the user namespace');
    assert.ok(index(l, /^UNSHARE (?!268435456)\d+$/) < index(l, /^FORK$/));
    assert.equal(l.filter((s) => s.startsWith('MKNOD_IN_ROOT')).length, 0);
    assert.match(l[index(l, /^MOUNT_IN_ROOT \d+ "\/dev\/null" 2 "\/dev\/null"/)]!, /4096 ""$/);
    assert.match(l[index(l, /^REMOUNT_IN_ROOT \d+ "\/data"/)]!, / 2100239$/, 'nosuid, nodev, noexec, ro and the atime flags kept');
  });

  it('refuses what a user namespace cannot mount, by name', () => {
    assert.throws(
      () => config((c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      }),
      /\/mounts\/5: a user namespace cannot mount sysfs .* without a network namespace of its own/,
    );
  });

  it('an unprivileged runtime maps only its own ids, denying setgroups', () => {
    const uid = process.geteuid!();
    const own = [{ containerID: 0, hostID: uid, size: 1 }];
    assert.equal(planUserNamespace(own, [{ containerID: 0, hostID: process.getegid!(), size: 1 }], true).setgroupsDeny, true);
    assert.throws(() => planUserNamespace([{ containerID: 0, hostID: uid + 1, size: 1 }], own, true), /\/linux\/uidMappings: an unprivileged runtime can map only its own id/);
  });

  it('no mount namespace: no propagation change, chroot, every mount recorded for delete', () => {
    const p = createPlan(config((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount' && n.type !== 'cgroup');
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      c.root.readonly = false;
    }), {}, host);
    p.finish();
    const l = p.listing;
    assert.equal(l.filter((s) => /^MOUNT "" "\/"/.test(s) || s.startsWith('PIVOT_ROOT')).length, 0);
    assert.ok(index(l, /^CHROOT_SLOT \d+$/) > 0);
    assert.equal(l.filter((s) => s.startsWith('RECORD_MOUNT')).length, l.filter((s) => /^MOUNT_IN_ROOT \d+ "[^"]+" 1 "(proc|tmpfs|devpts|shm|mqueue|sysfs)"/.test(s)).length);
  });
});

describe('exec plan', () => {
  it('joins the given namespaces in order, forks, joins the cgroup, and reports before exec', () => {
    const cfg = config();
    const p = execPlan(cfg.process, {
      namespaces: [{ type: 'ipc', flag: 0x08000000, fd: 11 }, { type: 'mnt', flag: 0x00020000, fd: 12 }, { type: 'pid', flag: 0x20000000, fd: 13 }],
      cgroupProcs: ['/sys/fs/cgroup/memory/c1/cgroup.procs'],
      preserveFds: 1,
      setgroupsDenied: true,
    }, cfg.seccomp, host);
    p.finish();
    const l = p.listing;
    assert.deepEqual(p.fds, [11, 12, 13]);
    assert.deepEqual(l.filter((s) => s.startsWith('SETNS_SLOT')), ['SETNS_SLOT 0 134217728', 'SETNS_SLOT 1 131072', 'SETNS_SLOT 2 536870912']);
    assert.ok(index(l, /^SETNS_SLOT 2 /) < index(l, /^FORK$/));
    assert.ok(index(l, /^FORK$/) < index(l, /^WRITE_SLOT \d+ "0"$/));
    assert.ok(index(l, /^CLOSE_FROM 4$/) > 0);
    assert.equal(l.filter((s) => s.startsWith('SETGROUPS')).length, 0, 'setgroups is denied and none are asked for');
    assert.ok(index(l, /^REPORT "exec"$/) < index(l, /^SECCOMP /));
    assert.equal(l.at(-2), 'EXEC ["sleep","1"]');
  });
});
