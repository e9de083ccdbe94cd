// exec, end to end on the real kernel: a new process in a running busybox container sees the
// container's PID 1, hostname and mounts, carries runc's flags, returns the process's status,
// and with containerd's `--process F --detach --pid-file P` ends up as a direct child of the
// caller's subreaper. Each scenario runs on Debian's runc first (OURS/RUNC), and ours must
// observe the same.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, cleanEnv, cleanSignals, haveRunc, OURS, processesMatching, REPO, RUNC, Sandbox, uniqueId, waitFor, withSandbox, type Runtime } from '../helpers/runtime.js';

const BOTH: Runtime[] = [OURS, RUNC];
const noRunc = (rt: Runtime) => rt === RUNC && !haveRunc() && 'runc is not installed';

/** A detached busybox container running `sleep 1000`; returns its id. */
function running(sb: Sandbox, tag: string, config = baseConfig(['sleep', '1000'])): string {
  const id = sb.track(uniqueId(tag));
  const r = sb.run(['run', '-d', '-b', sb.bundle(config), id], { detached: true });
  assert.equal(r.status, 0, r.stderr);
  return id;
}

/** Every scenario, run by `runtime`; returns what was observed (compared between runtimes). */
const scenarios = {
  /** ps sees PID 1 (the container's process) and the exec'd shell itself; hostname and mounts are the container's. */
  insideTheContainer(sb: Sandbox) {
    const id = running(sb, 'ps');
    const r = sb.run(['exec', id, 'sh', '-c', 'echo self=$$; ps -o pid,args; echo host=$(hostname); cut -d" " -f2 /proc/mounts']);
    const self = /self=(\d+)/.exec(r.stdout)?.[1];
    const psLine = (pid: string | undefined) => r.stdout.split('\n').find((l) => l.trim().split(/\s+/)[0] === pid)?.trim().replace(/^\d+\s+/, '');
    const mounts = new Set(r.stdout.split('\n').filter((l) => l.startsWith('/')));
    return {
      status: r.status,
      pid1: psLine('1'),
      selfInPs: psLine(self)?.startsWith('sh -c echo self=$$'),
      hostname: /^host=(\S+)$/m.exec(r.stdout)?.[1],
      mounts: ['/', '/proc', '/dev', '/dev/pts', '/sys', '/tmp'].filter((m) => mounts.has(m)),
    };
  },

  exitStatus(sb: Sandbox) {
    const id = running(sb, 'status');
    return {
      exit7: sb.run(['exec', id, 'sh', '-c', 'exit 7']).status,
      killed: sb.run(['exec', id, 'sh', '-c', 'kill -9 $$']).status,
      ok: sb.run(['exec', id, 'true']).status,
    };
  },

  /** runc's process flags: env appended, uid:gid and extra groups, cwd, an added capability. */
  flags(sb: Sandbox) {
    const id = running(sb, 'flags');
    const probe = 'echo foo=$FOO; echo path=$PATH; id; pwd; grep -E "^Cap(Bnd|Eff|Prm|Inh|Amb)" /proc/self/status; grep NoNewPrivs /proc/self/status';
    const asUser = sb.run(['exec', '-e', 'FOO=bar', '-u', '5:6', '-g', '7', '--cwd', '/tmp', id, 'sh', '-c', probe]);
    const withCap = sb.run(['exec', '--cap', 'CAP_SYS_PTRACE', id, 'sh', '-c', probe]);
    return { asUser: [asUser.status, asUser.stdout], withCap: [withCap.status, withCap.stdout] };
  },

  /** HOME from the container's /etc/passwd for the exec'd uid when the env has none; an explicit one stays. */
  home(sb: Sandbox) {
    const id = running(sb, 'home');
    const home = (...flags: string[]) => sb.run(['exec', ...flags, id, 'sh', '-c', 'echo $HOME']).stdout;
    return { root: home(), daemon: home('-u', '1'), noEntry: home('-u', '4242'), given: home('-e', 'HOME=/given') };
  },

  /** No signal ignored, blocked or caught in the exec'd process (Node ignores SIGPIPE and SIGXFSZ). */
  signals(sb: Sandbox) {
    const id = running(sb, 'signals');
    const out = sb.run(['exec', id, 'grep', '-E', '^Sig(Blk|Ign|Cgt)', '/proc/self/status']).stdout;
    // What the caller itself ignores (signal 32 under make) is inherited under runc: compare
    // only what is ours to get right — nothing blocked or caught, none of SIGUSR1, SIGPIPE, SIGXFSZ ignored.
    return out.replace(/^SigIgn:\s*([0-9a-f]+)$/m, (_, m: string) => `SigIgn:\t${(BigInt(`0x${m}`) & ((1n << 9n) | (1n << 12n) | (1n << 24n))).toString(16).padStart(16, '0')}`);
  },

  /** --preserve-fds 1: our fd 3 is the process's fd 3. */
  preserveFds(sb: Sandbox) {
    const id = running(sb, 'fds');
    const file = join(sb.dir, 'fd3.txt');
    writeFileSync(file, 'through fd 3\n');
    const fd = openSync(file, 'r');
    try {
      const r = sb.run(['exec', '--preserve-fds', '1', id, 'sh', '-c', 'cat <&3'], { stdio: ['ignore', 'pipe', 'pipe', fd] });
      return { status: r.status, out: r.stdout };
    } finally {
      closeSync(fd);
    }
  },

  /** The container's seccomp filter applies to exec'd processes too. */
  seccomp(sb: Sandbox) {
    const config = baseConfig(['sleep', '1000']);
    config.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: [process.arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
    const id = running(sb, 'seccomp', config);
    const r = sb.run(['exec', id, 'sh', '-c', 'mkdir /tmp/x 2>&1; echo rc=$?; grep "^Seccomp:" /proc/self/status']);
    return { status: r.status, out: r.stdout };
  },

  /** A created (not yet started) container can be exec'd into, as runc allows. */
  intoCreated(sb: Sandbox) {
    const id = sb.track(uniqueId('created'));
    assert.equal(sb.run(['create', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
    const r = sb.run(['exec', id, 'hostname']);
    return { status: r.status, out: r.stdout, still: sb.state(id)?.status };
  },

  /**
   * containerd's call, from a subreaper (as the shim is): `exec --process F --detach --pid-file P id`
   * returns while the process runs, the pid file holds its host pid (bare decimal), and the
   * process is then the subreaper's direct child, in the container's pid namespace and cgroup.
   */
  containerdDetach(sb: Sandbox) {
    const id = running(sb, 'detach');
    const processJson = join(sb.dir, 'runc-process1234');
    const proc = baseConfig(['sleep', '1000']).process;
    writeFileSync(processJson, JSON.stringify({ ...proc, args: ['sleep', '999'] }));
    const pidFile = join(sb.dir, 'exec1.pid');
    const argv = [...sb.runtime.argv, '--root', sb.root, 'exec', '--process', processJson, '--detach', '--pid-file', pidFile, id];
    const seen = underSubreaper(argv, pidFile);
    const initPid = sb.state(id).pid as number;
    const initCgroup = readFileSync(`/proc/${initPid}/cgroup`, 'utf8');
    return {
      status: seen.status,
      stderr: seen.stderr,
      pidFileBare: /^\d+$/.test(seen.pidText),
      childOfSubreaper: seen.ppid === seen.self,
      inContainerPidNs: seen.nspid.length === 2,
      sameCgroup: seen.cgroup === initCgroup,
      sameNamespaces: ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup'].every((n) => seen.ns[n] === nsOf(initPid, n)),
      comm: seen.comm,
    };
  },

  async badInput(sb: Sandbox) {
    const id = running(sb, 'bad');
    const missingSocket = join(sb.dir, 'no-such-dir', 'pty.sock');
    const stopped = sb.track(uniqueId('stopped'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['true'])), stopped], { detached: true }).status, 0);
    await waitFor(() => sb.state(stopped)?.status === 'stopped', 10_000, 'the container to stop');
    const paused = running(sb, 'paused');
    assert.equal(sb.run(['pause', paused]).status, 0);
    const out = {
      unknownId: sb.run(['exec', `${id}-nope`, 'true']),
      noCommand: sb.run(['exec', id]),
      notFound: sb.run(['exec', id, 'no-such-program']),
      missingSocket: sb.run(['exec', '-t', '-d', '--console-socket', missingSocket, id, 'sh']),
      stopped: sb.run(['exec', stopped, 'true']),
      paused: sb.run(['exec', paused, 'true']),
    };
    sb.run(['resume', paused]);
    return out;
  },
};

/** Run `argv` from a Node child that is a PR_SET_CHILD_SUBREAPER (as containerd's shim), and look at the orphan. */
function underSubreaper(argv: string[], pidFile: string) {
  const script = `
    import { spawnSync } from 'node:child_process';
    import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
    import { kill, prctl, PR_SET_CHILD_SUBREAPER, waitpid } from ${JSON.stringify(join(REPO, 'build/src/kernel/process.js'))};
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    const [cmd, ...args] = JSON.parse(process.argv[1]);
    // The process inherits the runtime's stdio (as the shim's pipes): a file, so that nothing
    // waits for it to close.
    const out = openSync(${JSON.stringify(pidFile)} + '.out', 'w+');
    const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', out, out] });
    closeSync(out);
    r.stderr = readFileSync(${JSON.stringify(pidFile)} + '.out', 'utf8');
    let pidText = '', pid = 0, status = '', cgroup = '', comm = '', ns = {};
    try {
      pidText = readFileSync(${JSON.stringify(pidFile)}, 'utf8');
      pid = Number(pidText);
      // --detach returns once the process exists, not once it has exec'd its program: runc's
      // may still be "runc:[2:INIT]" for a moment (seen on a loaded machine). Wait for execve.
      for (let i = 0; i < 500 && /^runc:|^mydocker/.test(readFileSync('/proc/' + pid + '/comm', 'utf8')); i++) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
      status = readFileSync('/proc/' + pid + '/status', 'utf8');
      cgroup = readFileSync('/proc/' + pid + '/cgroup', 'utf8');
      comm = readFileSync('/proc/' + pid + '/comm', 'utf8').trim();
      for (const n of ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup']) ns[n] = readlinkSync('/proc/' + pid + '/ns/' + n);
    } catch {}
    const field = (k) => (new RegExp('^' + k + ':\\\\s*(.*)$', 'm').exec(status)?.[1] ?? '').trim();
    console.log(JSON.stringify({ status: r.status, stderr: r.stderr, pidText, ppid: Number(field('PPid')), self: process.pid,
      nspid: field('NSpid').split(/\\s+/).filter(Boolean), cgroup, comm, ns }));
    // The orphan is ours now: kill and reap it, so nothing outlives the test.
    if (pid > 0) { try { kill(pid, 9); } catch {} waitpid(pid); }
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(argv)], {
    encoding: 'utf8',
    env: cleanEnv(),
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as {
    status: number;
    stderr: string;
    pidText: string;
    ppid: number;
    self: number;
    nspid: string[];
    cgroup: string;
    comm: string;
    ns: Record<string, string>;
  };
}

function nsOf(pid: number, n: string): string {
  return spawnSync('readlink', [`/proc/${pid}/ns/${n}`], { encoding: 'utf8' }).stdout.trim();
}

/** Run a scenario on both runtimes (runc first) and require ours to observe what runc does. */
function sideBySide<T>(name: string, scenario: (sb: Sandbox) => T, check: (seen: T, rt: Runtime) => void) {
  describe(name, () => {
    const seen = new Map<Runtime, T>();
    for (const rt of [RUNC, OURS]) {
      it(`${rt.name}`, { skip: noRunc(rt) }, withSandbox(rt, (sb) => {
        const s = scenario(sb);
        seen.set(rt, s);
        check(s, rt);
      }));
    }
    it('ours matches runc', { skip: !haveRunc() && 'runc is not installed' }, () => {
      assert.ok(seen.has(OURS) && seen.has(RUNC), 'both runs completed');
      assert.deepEqual(seen.get(OURS), seen.get(RUNC));
    });
  });
}

describe('exec', () => {
  sideBySide('sees the container: PID 1, itself, its hostname and mounts', scenarios.insideTheContainer, (s) => {
    assert.deepEqual(s, {
      status: 0,
      pid1: 'sleep 1000',
      selfInPs: true,
      hostname: 'busybox',
      mounts: ['/', '/proc', '/dev', '/dev/pts', '/sys', '/tmp'],
    });
  });

  sideBySide('exits with the process status (128+signal when killed)', scenarios.exitStatus, (s) => {
    assert.deepEqual(s, { exit7: 7, killed: 137, ok: 0 });
  });

  sideBySide('applies -e, -u uid:gid, -g, --cwd and --cap as runc does', scenarios.flags, (s) => {
    assert.equal(s.asUser[0], 0);
    assert.match(s.asUser[1] as string, /foo=bar\n/);
    assert.match(s.asUser[1] as string, /uid=5 gid=6 groups=7\n\/tmp\n/);
    assert.match(s.withCap[1] as string, /CapBnd:\s*0*20080420\n/);
  });

  sideBySide('starts the process with clean signal dispositions', scenarios.signals, (s) => cleanSignals(s));

  sideBySide("sets HOME from the container's /etc/passwd", scenarios.home, (s) => {
    assert.deepEqual(s, { root: '/root\n', daemon: '/usr/sbin\n', noEntry: '/\n', given: '/given\n' });
  });

  sideBySide('passes fds with --preserve-fds', scenarios.preserveFds, (s) => {
    assert.deepEqual(s, { status: 0, out: 'through fd 3\n' });
  });

  sideBySide("gets the container's seccomp filter", scenarios.seccomp, (s) => {
    assert.deepEqual(s, { status: 0, out: "mkdir: can't create directory '/tmp/x': Operation not permitted\nrc=1\nSeccomp:\t2\n" });
  });

  sideBySide('runs in a created container, which stays created', scenarios.intoCreated, (s) => {
    assert.deepEqual(s, { status: 0, out: 'busybox\n', still: 'created' });
  });

  sideBySide("containerd's --process --detach --pid-file: the process is the subreaper's child", scenarios.containerdDetach, (s) => {
    assert.deepEqual(s, {
      status: 0,
      stderr: '',
      pidFileBare: true,
      childOfSubreaper: true,
      inContainerPidNs: true,
      sameCgroup: true,
      sameNamespaces: true,
      comm: 'sleep',
    });
  });

  describe('refuses bad input with one line and exit 255, leaving nothing behind', () => {
    for (const rt of [RUNC, OURS]) {
      it(rt.name, { skip: noRunc(rt) }, withSandbox(rt, async (sb) => {
        const s = await scenarios.badInput(sb);
        for (const [what, r] of Object.entries(s)) assert.equal(r.status, 255, `${what}: ${r.stderr}`);
        if (rt === OURS) {
          for (const [what, r] of Object.entries(s)) {
            assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line: ${r.stderr}`);
            assert.equal(r.stdout, '', what);
          }
          assert.match(s.unknownId.stderr, /^mydocker-runc: container mydocker-test-\S+-nope does not exist\n$/);
          assert.match(s.noCommand.stderr, /a command to run is needed/);
          assert.match(s.notFound.stderr, /"no-such-program": executable file not found in \$PATH/);
          assert.match(s.missingSocket.stderr, /--console-socket .*pty\.sock: cannot connect: No such file or directory/);
          assert.match(s.stopped.stderr, /container not running/);
          assert.match(s.paused.stderr, /paused/);
          // No exec helper survives a failed exec.
          assert.deepEqual(processesMatching('mydocker-runc-exec'), []);
        }
      }));
    }
  });

  it('applies --apparmor / --process-label only where the host has the LSM, and says so', { skip: existsSync('/sys/kernel/security/apparmor') && 'this host has AppArmor' }, withSandbox(OURS, (sb) => {
    const id = sb.track(uniqueId('lsm'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
    const r = sb.run(['exec', '--apparmor', 'docker-default', id, 'true']);
    assert.equal(r.status, 255);
    assert.match(r.stderr, /apparmorProfile: AppArmor is not enabled on this host/);
  }));

  it('works after the bundle is gone: create kept a copy of the config', withSandbox(OURS, (sb) => {
    const id = sb.track(uniqueId('nobundle'));
    const bundle = sb.bundle(baseConfig(['sleep', '1000']));
    assert.equal(sb.run(['run', '-d', '-b', bundle, id], { detached: true }).status, 0);
    rmSync(bundle, { recursive: true, force: true });
    const r = sb.run(['exec', id, 'sh', '-c', 'echo $PATH; hostname']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nbusybox\n');
  }));
});
