// linux.seccomp on the real kernel, with busybox containers: each scenario runs on Debian's runc
// first (so a failure that runc shares is the test's or the host's), then on ours.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { seccompActionAvailable, seccompFlagSupported } from '../../src/kernel/seccomp.js';
import { baseConfig, haveRunc, OURS, processesMatching, RUNC, Sandbox, uniqueId, waitFor, withSandbox, type Runtime } from '../helpers/runtime.js';

const RUNTIMES: Runtime[] = [RUNC, OURS];
const skipRunc = (rt: Runtime) => rt === RUNC && !haveRunc() && 'no runc';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function config(args: string[], seccomp: unknown, noNewPrivileges = true): any {
  const c = baseConfig(args);
  c.process.noNewPrivileges = noNewPrivileges;
  c.linux.seccomp = seccomp;
  return c;
}

/** `run` a container to completion; returns status and output. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function run(sb: Sandbox, c: any, tag: string) {
  const id = sb.track(uniqueId(tag));
  return sb.run(['run', '-b', sb.bundle(c), id]);
}

const denyMkdir = (errnoRet?: number) => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', ...(errnoRet !== undefined ? { errnoRet } : {}) }],
});

/**
 * An allow-list (defaultAction ERRNO) generous enough for a runtime's last steps after the
 * filter is in (runc's Go runtime, our Node init: credentials, capabilities, execve) and for
 * busybox `echo`, but without mkdir.
 */
const ALLOWED = [
  'access', 'faccessat', 'faccessat2', 'arch_prctl', 'brk', 'capget', 'capset', 'chdir', 'clock_gettime', 'clock_nanosleep', 'clone', 'clone3', 'close',
  'close_range', 'dup', 'dup2', 'dup3', 'epoll_create1', 'epoll_ctl', 'epoll_pwait', 'epoll_wait', 'eventfd2', 'execve',
  'execveat', 'exit', 'exit_group', 'fchdir', 'fcntl', 'fstat', 'fstatfs', 'futex', 'getcwd', 'getdents64', 'getegid',
  'geteuid', 'getgid', 'getgroups', 'getpgrp', 'getpid', 'getppid', 'getrandom', 'getrlimit', 'gettid', 'gettimeofday',
  'getuid', 'ioctl', 'kill', 'lseek', 'lstat', 'madvise', 'mmap', 'mprotect', 'munmap', 'nanosleep', 'newfstatat', 'open',
  'openat', 'pipe', 'pipe2', 'poll', 'ppoll', 'prctl', 'pread64', 'prlimit64', 'read', 'readlink', 'readlinkat', 'readv',
  'rseq', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'sched_getaffinity', 'sched_yield', 'set_robust_list',
  'set_tid_address', 'setgid', 'setgroups', 'setresgid', 'setresuid', 'setsid', 'setuid', 'sigaltstack', 'stat', 'statx',
  'tgkill', 'umask', 'uname', 'wait4', 'waitid', 'write', 'writev',
];
const allowList = {
  defaultAction: 'SCMP_ACT_ERRNO',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names: ALLOWED, action: 'SCMP_ACT_ALLOW' }],
};

describe('seccomp', () => {
  for (const rt of RUNTIMES) {
    const opts = { skip: skipRunc(rt) };
    for (const nnp of [true, false]) {
      it(`denies mkdir with EPERM while ls works, noNewPrivileges ${nnp} (${rt.name})`, opts, withSandbox(rt, (sb) => {
        const r = run(sb, config(['sh', '-c', 'mkdir /tmp/x; echo rc=$?; ls -d /tmp'], denyMkdir(), nnp), 'mkdir');
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'rc=1\n/tmp\n');
        assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
      }));
    }

    it(`returns a custom errnoRet (38, ENOSYS) (${rt.name})`, opts, withSandbox(rt, (sb) => {
      const r = run(sb, config(['mkdir', '/tmp/x'], denyMkdir(38)), 'errno38');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/x': Function not implemented/);
    }));

    for (const nnp of [true, false]) {
      it(`runs echo under a default-deny allow-list, noNewPrivileges ${nnp} (${rt.name})`, opts, withSandbox(rt, (sb) => {
        const ok = run(sb, config(['echo', 'hi'], allowList, nnp), 'allow');
        assert.equal(ok.status, 0, ok.stderr);
        assert.equal(ok.stdout, 'hi\n');
        const denied = run(sb, config(['mkdir', '/tmp/x'], allowList, nnp), 'allowdeny');
        assert.equal(denied.status, 1);
        assert.match(denied.stderr, /Operation not permitted/);
      }));
    }

    it(`filters on arguments: personality(PER_LINUX32) denied, personality(PER_LINUX) allowed (${rt.name})`, opts, withSandbox(rt, (sb) => {
      const seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
      };
      const denied = run(sb, config(['linux32', 'true'], seccomp), 'pers32');
      assert.notEqual(denied.status, 0);
      assert.match(denied.stderr, /Operation not permitted/);
      const allowed = run(sb, config(['linux64', 'true'], seccomp), 'pers64');
      assert.equal(allowed.status, 0, allowed.stderr);
    }));

    it(`filters on arguments: socket(AF_INET) gets errnoRet 97, socket(AF_INET6) does not (${rt.name})`, opts, withSandbox(rt, (sb) => {
      const seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }] }],
      };
      const inet = run(sb, config(['nc', '127.0.0.1', '1'], seccomp), 'inet');
      assert.notEqual(inet.status, 0);
      assert.match(inet.stderr, /Address family not supported by protocol/);
      const inet6 = run(sb, config(['nc', '::1', '1'], seccomp), 'inet6');
      assert.notEqual(inet6.status, 0);
      assert.doesNotMatch(inet6.stderr, /Address family not supported/);
    }));

    it(`kills the process with SCMP_ACT_KILL (exit 159, 128+SIGSYS) (${rt.name})`, opts, withSandbox(rt, (sb) => {
      const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }] };
      const r = run(sb, config(['mkdir', '/tmp/x'], seccomp), 'kill');
      assert.equal(r.status, 159, r.stderr);
    }));

    it(`shows Seccomp: 2 in the container process's /proc status (${rt.name})`, opts, withSandbox(rt, async (sb) => {
      const id = sb.track(uniqueId('status'));
      const bundle = sb.bundle(config(['sleep', '1000'], denyMkdir()));
      const c = sb.run(['create', '-b', bundle, id], { detached: true });
      assert.equal(c.status, 0, c.stderr);
      assert.equal(sb.run(['start', id]).status, 0);
      const st = await waitFor(() => sb.state(id)?.status === 'running' && sb.state(id), 10_000, 'running');
      const status = readFileSync(`/proc/${st.pid}/status`, 'utf8');
      assert.match(status, /^Seccomp:\s+2$/m);
      assert.match(status, /^Seccomp_filters:\s+1$/m);
      assert.match(status, /^NoNewPrivs:\s+1$/m);
      assert.equal(sb.run(['kill', id, 'KILL']).status, 0);
    }));

    // runc 1.1 (Debian 12's) refuses any flags ("seccomp flags are not yet supported by runc");
    // runc 1.2 passes LOG and SPEC_ALLOW to seccomp(2) and ignores TSYNC, as we do.
    const flagsSkip = rt === RUNC ? 'runc 1.1 does not support linux.seccomp.flags' : false;
    it(`loads with SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW, and ignores TSYNC (${rt.name})`, { skip: flagsSkip }, withSandbox(rt, (sb) => {
      const seccomp = {
        ...denyMkdir(),
        flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'],
      };
      const r = run(sb, config(['sh', '-c', 'mkdir /tmp/x || echo denied'], seccomp), 'flags');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'denied\n');
    }));

    it(`kills the whole process with SCMP_ACT_KILL_PROCESS and traps with SCMP_ACT_TRAP (${rt.name})`, opts, withSandbox(rt, (sb) => {
      for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP']) {
        const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action }] };
        const r = run(sb, config(['mkdir', '/tmp/x'], seccomp), 'killproc');
        assert.equal(r.status, 159, `${action}: ${r.stderr}`);
      }
    }));

    const bad: [string, unknown, RegExp][] = [
      ['an unknown action', { defaultAction: 'SCMP_ACT_NOPE' }, /defaultAction/],
      ['an unknown architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }, /architectures/],
      [
        'an argument index above 5',
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] },
        /args.*index|index/,
      ],
      [
        'an unknown operator',
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_SAME' }] }] },
        /op/,
      ],
    ];
    for (const [what, seccomp, field] of bad) {
      it(`refuses ${what} at create, leaving nothing behind (${rt.name})`, opts, withSandbox(rt, (sb) => {
        const id = sb.track(uniqueId('bad'));
        const r = sb.run(['create', '-b', sb.bundle(config(['true'], seccomp)), id], { detached: true });
        assert.notEqual(r.status, 0);
        assert.equal(sb.state(id), null);
        if (rt === OURS) {
          const lines = r.stderr.trim().split('\n');
          assert.equal(lines.length, 1, r.stderr);
          assert.match(lines[0]!, /\/linux\/seccomp\//);
          assert.match(lines[0]!, field);
        }
        assert.deepEqual(processesMatching(id), []);
      }));
    }
  }
});

describe('seccomp: what the kernel supports', () => {
  it('probes filter flags and actions without installing anything', () => {
    assert.equal(seccompFlagSupported(2), true, 'SECCOMP_FILTER_FLAG_LOG (4.14)');
    assert.equal(seccompFlagSupported(4), true, 'SECCOMP_FILTER_FLAG_SPEC_ALLOW (4.17)');
    assert.equal(seccompFlagSupported(1 << 30), false, 'no such flag');
    assert.equal(seccompActionAvailable(0x80000000), true, 'KILL_PROCESS');
    assert.equal(seccompActionAvailable(0x7ffc0000), true, 'LOG');
    assert.equal(seccompActionAvailable(0x12340000), false, 'no such action');
    assert.doesNotMatch(readFileSync('/proc/self/status', 'utf8'), /^Seccomp:\s+2$/m, 'the test process has no filter');
  });
});
