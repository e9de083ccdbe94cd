// docker's security defaults in mydocker containers, read from inside: the capability set
// (docker's documented default, CapEff 00000000a80425fb), seccomp on, masked and read-only
// /proc paths, and what --privileged, --cap-add/--cap-drop, --security-opt and --device change.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withMydocker } from '../helpers/mydocker.js';

const field = (status: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];

describe('mydocker security defaults', () => {
  it("docker's capability set, seccomp in filter mode, no_new_privs off", withMydocker((md) => {
    const status = md.ok(['run', '--rm', 'busybox', 'cat', '/proc/self/status']);
    assert.equal(field(status, 'CapEff'), '00000000a80425fb');
    assert.equal(field(status, 'CapBnd'), '00000000a80425fb');
    assert.equal(field(status, 'Seccomp'), '2');
    assert.equal(field(status, 'NoNewPrivs'), '0');
  }));

  it('masked and read-only /proc paths; no mount, no unshare', withMydocker((md) => {
    const out = md.ok(['run', '--rm', 'busybox', 'sh', '-c', [
      'wc -c < /proc/timer_list',
      'echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo sys-writable || echo sys-ro',
      'mount -t tmpfs none /tmp 2>/dev/null && echo mounted || echo no-mount',
      'unshare -m true 2>/dev/null && echo unshared || echo no-unshare',
    ].join('; ')]);
    assert.deepEqual(out.trim().split('\n'), ['0', 'sys-ro', 'no-mount', 'no-unshare']);
  }));

  it('--privileged: every capability this host can give, no seccomp, mounts work', withMydocker((md) => {
    const ours = field(readFileSync('/proc/self/status', 'utf8'), 'CapBnd');
    const out = md.ok(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep -E "^(CapEff|Seccomp)" /proc/self/status; mount -t tmpfs none /tmp && echo mounted; wc -c < /proc/timer_list']);
    assert.equal(field(out, 'CapEff'), ours);
    assert.equal(field(out, 'Seccomp'), '0');
    assert.match(out, /^mounted$/m);
    assert.doesNotMatch(out, /^0$/m, '/proc/timer_list is not masked');
  }));

  it('--cap-drop ALL, --cap-add NET_ADMIN, --cap-drop CHOWN', withMydocker((md) => {
    assert.equal(field(md.ok(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'cat', '/proc/self/status']), 'CapEff'), '0000000000000000');
    const withAdmin = BigInt(`0x${field(md.ok(['run', '--rm', '--cap-add', 'net_admin', 'busybox', 'cat', '/proc/self/status']), 'CapEff')}`);
    assert.equal((withAdmin >> 12n) & 1n, 1n, 'CAP_NET_ADMIN (12)');
    const r = md.run(['run', '--rm', '--cap-drop', 'CHOWN', 'busybox', 'sh', '-c', 'touch /f && chown 1:1 /f']);
    assert.notEqual(r.status, 0);
    const bad = md.run(['run', '--rm', '--cap-add', 'CAP_NOPE', 'busybox', 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /--cap-add CAP_NOPE: unknown capability/);
  }));

  it('--security-opt no-new-privileges, seccomp=unconfined, seccomp=FILE (docker format)', withMydocker((md) => {
    assert.equal(field(md.ok(['run', '--rm', '--security-opt', 'no-new-privileges', 'busybox', 'cat', '/proc/self/status']), 'NoNewPrivs'), '1');
    assert.equal(field(md.ok(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'cat', '/proc/self/status']), 'Seccomp'), '0');
    const profile = join(md.dir, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' },
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_SYS_ADMIN'] } },
      ],
    }));
    const out = md.ok(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'mkdir /x 2>&1; touch /y; chmod 600 /y && echo chmod-ok']);
    assert.match(out, /Operation not permitted/);
    assert.match(out, /chmod-ok/, 'a rule that needs a capability the container lacks does not apply');
    const bad = md.run(['run', '--rm', '--security-opt', `seccomp=${join(md.dir, 'missing.json')}`, 'busybox', 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /missing\.json/);
    assert.equal(md.run(['run', '--rm', '--security-opt', 'apparmor=myprofile', 'busybox', 'true']).status, 125);
  }));

  it('--device maps a host device; a missing one is refused', withMydocker((md) => {
    assert.equal(md.ok(['run', '--rm', '--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c', 'echo x > /dev/mynull && ls -l /dev/mynull | cut -c1']), 'c\n');
    const r = md.run(['run', '--rm', '--device', '/dev/nonexistent', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /--device \/dev\/nonexistent: no such device/);
  }));

  it('a container cannot write the host files behind its /etc/hosts or the runtime', withMydocker((md) => {
    const out = md.ok(['run', '--rm', 'busybox', 'sh', '-c', 'ls /proc/1/root/ >/dev/null; cat /proc/1/environ | tr "\\0" "\\n" | grep -c NODE || true']);
    assert.equal(out.trim(), '0', 'no Node environment visible in the container');
  }));
});
