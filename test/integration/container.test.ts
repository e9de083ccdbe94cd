// What a process sees inside the container: PID 1, hostname, its own /proc, the config's
// mounts, masked and read-only paths, capabilities, user, rlimits, sysctls, devices.
// Each probe runs with `run` and prints facts the test checks; where runc is installed the
// same probe runs under runc too, so a failure both share is the test's or the host's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { capabilityNumber } from '../../src/spec/tables.js';
import { baseConfig, cleanSignals, haveRunc, OURS, RUNC, Sandbox, uniqueId, type Runtime } from '../helpers/runtime.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Config = any;

/** Run `script` under `sh -c` in a container built from `config`; returns stdout (asserting exit 0). */
function probe(runtime: Runtime, script: string, edit: (c: Config) => void = () => {}): string {
  const sb = new Sandbox(runtime);
  try {
    const config = baseConfig(['sh', '-c', script]);
    edit(config);
    const id = sb.track(uniqueId('probe'));
    const r = sb.run(['run', '-b', sb.bundle(config), id]);
    assert.equal(r.status, 0, `${runtime.name}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  } finally {
    const leaks = sb.cleanup();
    assert.deepEqual(leaks, [], `left behind: ${leaks.join(', ')}`);
  }
}

/** The same probe under ours and (when installed) runc; asserts both outputs satisfy `check`. */
function bothRuntimes(name: string, script: string, check: (out: string, rt: string) => void, edit?: (c: Config) => void) {
  it(name, () => {
    check(probe(OURS, script, edit), 'mydocker-runc');
  });
  it(`${name} (runc, control)`, { skip: !haveRunc() && 'runc is not installed' }, () => {
    check(probe(RUNC, script, edit), 'runc');
  });
}

function hostIsV2(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / \/sys\/fs\/cgroup .* - cgroup2 /.test(l));
}

function capMask(names: string[]): bigint {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(capabilityNumber(n));
  return m;
}

describe('inside the container', () => {
  bothRuntimes('the process is PID 1 and /proc shows only the container', 'echo pid=$$; ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "', (out) => {
    assert.match(out, /^pid=1$/m);
    // sh (1), and the short-lived ls / grep / sort / tr of the pipeline: nothing of the host.
    const pids = out.split('\n')[1]!.trim().split(' ').map(Number);
    assert.ok(pids.length <= 6, `container sees ${pids.length} processes: ${pids}`);
    assert.equal(pids[0], 1);
  });

  bothRuntimes('hostname and domainname come from the config', 'hostname; cat /proc/sys/kernel/domainname', (out, rt) => {
    // runc 1.1 predates `domainname` (runtime-spec 1.1) and leaves it unset.
    assert.equal(out, rt === 'runc' ? 'probe-host\n(none)\n' : 'probe-host\nexample.org\n');
  }, (c) => {
    c.hostname = 'probe-host';
    c.domainname = 'example.org';
  });

  bothRuntimes('CapEff and CapBnd match the config', 'grep -E "^Cap(Eff|Bnd|Prm|Inh):" /proc/self/status', (out) => {
    const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'];
    const want = capMask(caps).toString(16).padStart(16, '0');
    assert.match(out, new RegExp(`CapEff:\\s+${want}`));
    assert.match(out, new RegExp(`CapBnd:\\s+${want}`));
    assert.match(out, new RegExp(`CapPrm:\\s+${want}`));
    assert.match(out, /CapInh:\s+0000000000000000/);
  }, (c) => {
    const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'];
    c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
  });

  bothRuntimes('maskedPaths are unreadable or empty', 'cat /proc/kcore 2>/dev/null | wc -c; ls /sys/firmware | wc -l; cat /proc/keys | wc -c', (out) => {
    assert.deepEqual(out.trim().split('\n').map((s) => s.trim()), ['0', '0', '0']);
  });

  bothRuntimes('readonlyPaths and a read-only root refuse writes', 'echo 1 > /proc/sys/kernel/ns_last_pid 2>&1 && echo procsys-writable; touch /newfile 2>&1 && echo root-writable; touch /tmp/ok && echo tmp-writable', (out) => {
    assert.doesNotMatch(out, /procsys-writable/);
    assert.doesNotMatch(out, /root-writable/);
    assert.match(out, /Read-only file system/);
    assert.match(out, /tmp-writable/);
  });

  // The `cgroup` mount on a v1 or hybrid host, as runc 1.1 lays it out: a read-write tmpfs,
  // each v1 hierarchy read-only (the config's "ro"), and no cgroup2 `unified` directory.
  // (On a pure v2 host it is the container's cgroup2 directory: cgroups.test.ts.)
  const cgroupView = 'awk \'$5 ~ "^/sys/fs/cgroup" { split($6, o, ","); for (i = 7; $i != "-"; i++); print $5, o[1], $(i+1) }\' /proc/self/mountinfo | sort';
  it('the /sys/fs/cgroup view matches runc\'s', { skip: (!haveRunc() && 'runc is not installed') || (hostIsV2() && 'a pure cgroup v2 host') }, () => {
    const ours = probe(OURS, cgroupView);
    assert.equal(ours, probe(RUNC, cgroupView));
    assert.match(ours, /^\/sys\/fs\/cgroup rw tmpfs$/m);
    assert.match(ours, /^\/sys\/fs\/cgroup\/memory ro cgroup$/m);
    assert.doesNotMatch(ours, /cgroup2|unified/);
  });

  it('bind mounts from the config appear, with their options', () => {
    const host = mkdtempSync(join(tmpdir(), 'mydocker-test-bind-'));
    try {
      writeFileSync(join(host, 'marker'), 'from-the-host\n');
      const out = probe(OURS, 'cat /data/marker; touch /data/x 2>&1; cat /rw/marker; touch /rw/created && echo rw-ok; grep " /data " /proc/self/mountinfo', (c) => {
        c.mounts.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro', 'nosuid'] });
        c.mounts.push({ destination: '/rw', type: 'bind', source: host, options: ['bind'] });
      });
      assert.match(out, /^from-the-host$/m);
      assert.match(out, /Read-only file system/);
      assert.match(out, /rw-ok/);
      assert.match(out, / \/data .*\bro\b.*nosuid/);
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });

  it('recursive options (rro) reach submounts of a bind', () => {
    const host = mkdtempSync(join(tmpdir(), 'mydocker-test-rro-'));
    const sub = join(host, 'sub');
    try {
      mkdirSync(sub);
      assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'mydocker-test', sub]).status, 0);
      const out = probe(OURS, 'touch /data/sub/x 2>&1; touch /plain/sub/y && echo plain-rw', (c) => {
        c.mounts.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'rro'] });
        c.mounts.push({ destination: '/plain', type: 'bind', source: host, options: ['rbind', 'ro'] });
      });
      assert.match(out, /\/data\/sub\/x.*Read-only file system/);
      assert.match(out, /plain-rw/, 'a plain ro does not reach the submount: the difference rro makes');
    } finally {
      spawnSync('umount', [sub]);
      rmSync(host, { recursive: true, force: true });
    }
  });

  bothRuntimes('user, groups, umask, cwd and env', 'id; umask; pwd; echo $FOO', (out) => {
    assert.match(out, /uid=1000 gid=1000 groups=10,20/);
    assert.match(out, /^0027$/m);
    assert.match(out, /^\/tmp$/m);
    assert.match(out, /^bar$/m);
  }, (c) => {
    c.process.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o027 };
    c.process.cwd = '/tmp';
    c.process.env.push('FOO=bar');
  });

  // HOME, when process.env has none (Kubernetes' configs usually carry none): the passwd
  // entry's home for the process's uid, read inside the container; an empty HOME counts as none.
  bothRuntimes('HOME comes from the container\'s /etc/passwd when the env has none (root)', 'echo "home=$HOME"', (out) => {
    assert.equal(out, 'home=/root\n');
  });

  bothRuntimes('HOME for another uid, replacing an empty HOME', 'echo "home=$HOME"', (out) => {
    assert.equal(out, 'home=/usr/sbin\n');
  }, (c) => {
    c.process.user = { uid: 1, gid: 1 };
    c.process.env.push('HOME=');
  });

  // Node ignores SIGPIPE and SIGXFSZ, and ignored dispositions survive execve: the process
  // must start clean, or `yes | head` never ends `yes` with SIGPIPE.
  // (What the caller itself ignores is inherited, under runc too: only ours are checked.)
  bothRuntimes('the process starts with no signal ignored, blocked or caught', 'exec grep -E "^Sig(Blk|Ign|Cgt)" /proc/self/status', cleanSignals);

  bothRuntimes('rlimits, noNewPrivileges and oomScoreAdj', 'ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj', (out) => {
    assert.deepEqual(out.trim().split('\n').map((s) => s.trim()), ['512', '777', 'NoNewPrivs:\t1', '123']);
  }, (c) => {
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 777 }];
    c.process.noNewPrivileges = true;
    c.process.oomScoreAdj = 123;
  });

  bothRuntimes('sysctls apply inside the container namespaces', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni', (out) => {
    assert.equal(out, '1\n1234\n');
  }, (c) => {
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234' };
  });

  bothRuntimes('default devices, /dev symlinks and linux.devices', 'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/mynull | cut -c1-10; readlink /dev/fd; readlink /dev/ptmx; echo x > /dev/mynull && echo written', (out) => {
    assert.equal(out.split('\n').filter((l) => l.startsWith('crw-rw-rw-')).length, 7, out);
    assert.match(out, /^\/proc\/self\/fd$/m);
    assert.match(out, /^pts\/ptmx$/m);
    assert.match(out, /written/);
  }, (c) => {
    c.linux.devices = [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }];
    c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
  });

  it('--no-pivot runs the container with chroot', () => {
    const sb = new Sandbox(OURS);
    try {
      const id = sb.track(uniqueId('nopivot'));
      const r = sb.run(['run', '--no-pivot', '-b', sb.bundle(baseConfig(['sh', '-c', 'echo pid=$$; ls /'])), id]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /pid=1/);
      assert.match(r.stdout, /bin/);
    } finally {
      assert.deepEqual(sb.cleanup(), []);
    }
  });
});
