// checkConfig: cross-field rules, with a made-up host so that no root or LSM is needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, UnsupportedError } from '../../src/errors.js';
import { checkConfig } from '../../src/spec/check.js';
import { defaultSpec } from '../../src/spec/defaults.js';
import type { Spec } from '../../src/spec/generated/types.js';
import type { HostFacts } from '../../src/spec/host.js';

const files: Record<string, string | undefined> = {
  '/proc/42/ns/net': 'net',
  '/proc/42/ns/pid': 'pid',
  '/run/netns/blue': undefined, // a bind-mounted nsfs file: exists, type unknown
  '/proc/self/ns/net': 'net',
};
const host: HostFacts = {
  apparmor: false,
  selinux: false,
  exists: (p) => p in files,
  namespaceFileType: (p) => files[p],
  isOwnNamespace: (p) => p === '/proc/self/ns/net',
};

function spec(edit: (s: any) => void = () => {}): Spec {
  const s: any = defaultSpec();
  edit(s);
  return s;
}

function fails(s: Spec, cls: typeof ConfigError | typeof UnsupportedError, message: string, h: HostFacts = host): void {
  assert.throws(() => checkConfig(s, { host: h }), (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal((e as Error).message, message);
    return true;
  });
}

describe('checkConfig', () => {
  it('accepts the default spec', () => {
    checkConfig(spec(), { host });
  });

  it('refuses duplicate namespaces', () => {
    fails(spec((s) => s.linux.namespaces.push({ type: 'pid' })), ConfigError, 'config.json: /linux/namespaces/6/type: duplicate namespace "pid"');
  });

  it('takes user and time namespaces (the native init makes them)', () => {
    checkConfig(spec((s) => {
      s.linux.namespaces.push({ type: 'user' }, { type: 'time' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux.timeOffsets = { monotonic: { secs: 10 } };
    }), { host });
  });

  it('needs a user namespace for id mappings', () => {
    fails(
      spec((s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }])),
      ConfigError,
      'config.json: /linux/uidMappings: needs a private user namespace (add {"type": "user"} to /linux/namespaces)',
    );
  });

  it('needs a uts namespace for hostname and domainname', () => {
    const noUts = (s: any) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'uts'));
    fails(spec(noUts), ConfigError, 'config.json: /hostname: needs a private uts namespace (add {"type": "uts"} to /linux/namespaces)');
    fails(
      spec((s) => {
        noUts(s);
        delete s.hostname;
        s.domainname = 'example.org';
      }),
      ConfigError,
      'config.json: /domainname: needs a private uts namespace (add {"type": "uts"} to /linux/namespaces)',
    );
    checkConfig(spec((s) => (noUts(s), delete s.hostname)), { host });
  });

  it('allows sysctls only in the namespace that owns them', () => {
    checkConfig(spec((s) => (s.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '5' })), { host });
    const without = (t: string) => (s: any) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== t));
    fails(
      spec((s) => (without('network')(s), (s.linux.sysctl = { 'net.ipv4.ip_forward': '1' }))),
      ConfigError,
      'config.json: /linux/sysctl/net.ipv4.ip_forward: needs a private network namespace (add {"type": "network"} to /linux/namespaces)',
    );
    fails(
      spec((s) => (without('ipc')(s), (s.linux.sysctl = { 'kernel/shmmax': '1' }))),
      ConfigError,
      'config.json: /linux/sysctl/kernel~1shmmax: needs a private ipc namespace (add {"type": "ipc"} to /linux/namespaces)',
    );
    fails(
      spec((s) => (s.linux.sysctl = { 'vm.swappiness': '1' })),
      ConfigError,
      'config.json: /linux/sysctl/vm.swappiness: is not in a namespace the container can own, so setting it would change the host',
    );
    fails(spec((s) => (s.linux.sysctl = { 'kernel.hostname': 'x' })), ConfigError, 'config.json: /linux/sysctl/kernel.hostname: conflicts with /hostname: set that instead');
    fails(
      spec((s) => {
        s.linux.namespaces.find((n: any) => n.type === 'network').path = '/proc/self/ns/net';
        s.linux.sysctl = { 'net.core.somaxconn': '1' };
      }),
      ConfigError,
      "config.json: /linux/sysctl/net.core.somaxconn: is not allowed in the host's network namespace",
    );
  });

  it('checks namespace paths exist and are of the right type', () => {
    const join = (p: string) => (s: any) => (s.linux.namespaces.find((n: any) => n.type === 'network').path = p);
    checkConfig(spec(join('/proc/42/ns/net')), { host });
    checkConfig(spec(join('/run/netns/blue')), { host });
    fails(spec(join('/run/netns/red')), ConfigError, 'config.json: /linux/namespaces/1/path: /run/netns/red does not exist');
    fails(spec(join('/proc/42/ns/pid')), ConfigError, 'config.json: /linux/namespaces/1/path: /proc/42/ns/pid is a pid namespace, not network');
  });

  it('refuses LSM labels on a host without the LSM', () => {
    fails(spec((s) => (s.process.apparmorProfile = 'docker-default')), UnsupportedError, 'config.json: /process/apparmorProfile: AppArmor is not enabled on this host');
    checkConfig(spec((s) => (s.process.apparmorProfile = 'docker-default')), { host: { ...host, apparmor: true } });
    fails(spec((s) => (s.process.selinuxLabel = 'system_u:system_r:container_t:s0')), UnsupportedError, 'config.json: /process/selinuxLabel: SELinux is not enabled on this host');
    fails(spec((s) => (s.linux.mountLabel = 'system_u:object_r:container_file_t:s0')), UnsupportedError, 'config.json: /linux/mountLabel: SELinux is not enabled on this host');
  });

  it('checks rootfsPropagation', () => {
    checkConfig(spec((s) => (s.linux.rootfsPropagation = 'rshared')), { host });
    fails(
      spec((s) => (s.linux.rootfsPropagation = 'sideways')),
      ConfigError,
      'config.json: /linux/rootfsPropagation: must be one of private, rprivate, shared, rshared, slave, rslave, unbindable, runbindable (got "sideways")',
    );
  });

  it('checks rlimits and capabilities by name', () => {
    fails(spec((s) => (s.process.rlimits[0].type = 'RLIMIT_FOO')), ConfigError, 'config.json: /process/rlimits/0/type: unknown rlimit "RLIMIT_FOO"');
    fails(
      spec((s) => s.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 })),
      ConfigError,
      'config.json: /process/rlimits/1/type: duplicate rlimit RLIMIT_NOFILE (also /process/rlimits/0)',
    );
    fails(spec((s) => (s.process.rlimits[0].soft = 2048)), ConfigError, 'config.json: /process/rlimits/0/soft: must not exceed hard (2048 > 1024)');
    fails(spec((s) => s.process.capabilities.permitted.push('CAP_FLY')), ConfigError, 'config.json: /process/capabilities/permitted/3: unknown capability "CAP_FLY"');
  });

  it('needs major and minor for device nodes other than fifos', () => {
    checkConfig(spec((s) => (s.linux.devices = [{ type: 'p', path: '/dev/fifo' }])), { host });
    fails(spec((s) => (s.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10 }])), ConfigError, 'config.json: /linux/devices/0/minor: is required for a device of type "c"');
  });

  it('refuses what this build cannot honour', () => {
    fails(spec((s) => (s.linux.intelRdt = { closID: 'x' })), UnsupportedError, 'config.json: /linux/intelRdt: Intel RDT is not supported');
    fails(
      spec((s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY' })),
      UnsupportedError,
      'config.json: /linux/seccomp/defaultAction: seccomp action SCMP_ACT_NOTIFY is not supported',
    );
    fails(
      spec((s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_S390X'] })),
      UnsupportedError,
      'config.json: /linux/seccomp/architectures/0: seccomp architecture SCMP_ARCH_S390X is not supported',
    );
  });

  it('accepts a Docker-like seccomp profile', () => {
    checkConfig(
      spec(
        (s) =>
          (s.linux.seccomp = {
            defaultAction: 'SCMP_ACT_ERRNO',
            defaultErrnoRet: 1,
            architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
            syscalls: [
              { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
              { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
            ],
          }),
      ),
      { host },
    );
  });

  it('needs a mount namespace for masked and read-only paths', () => {
    fails(
      spec((s) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'mount'))),
      ConfigError,
      'config.json: /linux/maskedPaths: needs a private mount namespace (add {"type": "mount"} to /linux/namespaces)',
    );
  });
});
