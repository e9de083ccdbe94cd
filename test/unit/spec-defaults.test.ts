// `spec` defaults and the `features` document are valid against our own schemas.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkConfig } from '../../src/spec/check.js';
import { defaultSpec } from '../../src/spec/defaults.js';
import { features } from '../../src/spec/features.js';
import type { HostFacts } from '../../src/spec/host.js';
import { OCI_VERSION } from '../../src/spec/tables.js';
import { validateConfig, validateFeatures } from '../../src/spec/validate.js';

const host: HostFacts = { apparmor: false, selinux: false, exists: () => true, namespaceFileType: () => undefined, isOwnNamespace: () => false };

describe('defaultSpec', () => {
  it('is valid, passes the cross-field checks, and claims our version', () => {
    const s = validateConfig(defaultSpec());
    checkConfig(s, { host });
    assert.equal(s.ociVersion, OCI_VERSION);
    assert.deepEqual(s.process?.args, ['sh']);
    assert.equal(s.process?.terminal, true);
    assert.deepEqual(s.process?.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    assert.deepEqual(
      s.mounts?.map((m) => m.destination),
      ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'],
    );
    assert.deepEqual(
      s.linux?.namespaces?.map((n) => n.type),
      ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'],
    );
  });

  it('returns a fresh object each time', () => {
    const a = defaultSpec();
    a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    assert.equal(defaultSpec().process!.capabilities!.bounding!.length, 3);
  });

  it('has a valid rootless shape', () => {
    const s = validateConfig(defaultSpec({ rootless: true, uid: 1000, gid: 1000 }));
    assert.deepEqual(s.linux?.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
    assert.equal(s.linux?.namespaces?.some((n) => n.type === 'network'), false);
    assert.equal(s.linux?.resources, undefined);
    assert.equal(s.mounts?.find((m) => m.destination === '/sys')?.source, '/sys');
  });
});

describe('features', () => {
  it('is a valid features document built from the tables', () => {
    const f = validateFeatures(features({ apparmor: true, selinux: false }));
    assert.equal(f.ociVersionMax, OCI_VERSION);
    assert.deepEqual(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    assert.ok(f.mountOptions?.includes('nosuid') && f.mountOptions.includes('rslave'));
    assert.equal(f.linux?.namespaces?.includes('user'), true);
    assert.equal(f.linux?.mountExtensions?.idmap?.enabled, true);
    assert.equal(f.linux?.capabilities?.length, 41);
    assert.equal(f.linux?.apparmor?.enabled, true);
    assert.equal(f.linux?.selinux?.enabled, false);
    assert.equal(f.linux?.seccomp?.actions?.includes('SCMP_ACT_NOTIFY'), false);
  });
});
