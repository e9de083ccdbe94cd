// Terminals, end to end: the console socket as containerd's shim and podman's conmon use it
// (create with process.terminal, exec -t), and the foreground terminal of `run`/`exec -t`
// under a real pty (util-linux `script`, from bsdutils, installed by src/build/setup.sh).
// Every scenario runs on Debian's runc first, and ours must observe the same.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConsoleReceiver, converse } from '../helpers/console.js';
import { baseConfig, cleanEnv, haveRunc, OURS, RUNC, Sandbox, uniqueId, waitFor, withSandbox, type Runtime } from '../helpers/runtime.js';

const noRunc = (rt: Runtime) => rt === RUNC && !haveRunc() && 'runc is not installed';

/** Run a scenario on runc, then ours, and require the same observations. */
function sideBySide<T>(name: string, scenario: (sb: Sandbox) => Promise<T>, check: (seen: T) => void) {
  describe(name, () => {
    const seen = new Map<Runtime, T>();
    for (const rt of [RUNC, OURS]) {
      it(rt.name, { skip: noRunc(rt) }, withSandbox(rt, async (sb) => {
        const s = await scenario(sb);
        seen.set(rt, s);
        check(s);
      }));
    }
    it('ours matches runc', { skip: !haveRunc() && 'runc is not installed' }, () => {
      assert.ok(seen.has(OURS) && seen.has(RUNC), 'both runs completed');
      assert.deepEqual(seen.get(OURS), seen.get(RUNC));
    });
  });
}

function terminalConfig(args: string[] = ['sh']) {
  const config = baseConfig(args);
  config.process.terminal = true;
  return config;
}

/** What a shell on the received master says about its terminal. */
async function askTerminal(master: number, extra = '') {
  // The marker is printed by `echo` (its echo on the terminal line has a quote after it).
  const out = await converse(master, `tty; echo pid=$$; stty size; ${extra}echo "end-of"-answers; exit\n`, /^end-of-answers\r?$/m);
  return {
    tty: /^(\/dev\/pts\/\d+)\r?$/m.exec(out)?.[1]?.replace(/\d+$/, 'N'),
    size: /^(\d+ \d+)\r?$/m.exec(out)?.[1],
    out,
  };
}

describe('console socket', () => {
  sideBySide(
    'exec -t --detach --console-socket: one fd named /dev/ptmx, a shell on /dev/pts/N',
    async (sb) => {
      const id = sb.track(uniqueId('exect'));
      assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
      const rx = new ConsoleReceiver();
      try {
        const pidFile = join(sb.dir, 'exec.pid');
        const r = sb.run(['exec', '-t', '-d', '--console-socket', rx.path, '--pid-file', pidFile, id, 'sh'], { detached: true });
        const m = rx.receive();
        assert.ok(m, 'the runtime sent the master');
        try {
          const seen = await askTerminal(m.fd);
          return { status: r.status, name: m.name, count: m.count, tty: seen.tty, pidFileBare: /^\d+$/.test(readFileSync(pidFile, 'utf8')) };
        } finally {
          closeSync(m.fd);
        }
      } finally {
        rx.close();
      }
    },
    (s) => assert.deepEqual(s, { status: 0, name: '/dev/ptmx', count: 1, tty: '/dev/pts/N', pidFileBare: true }),
  );

  sideBySide(
    "podman's exec: --pid-file P --process F --detach --tty --console-socket S, with consoleSize",
    async (sb) => {
      const id = sb.track(uniqueId('podman'));
      assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
      const processJson = join(sb.dir, 'exec-process-1');
      writeFileSync(processJson, JSON.stringify({ ...terminalConfig().process, consoleSize: { height: 33, width: 99 } }));
      const rx = new ConsoleReceiver();
      try {
        const pidFile = join(sb.dir, 'exec_pid');
        const r = sb.run(['exec', '--pid-file', pidFile, '--process', processJson, '--detach', '--tty', '--console-socket', rx.path, id], {
          detached: true,
        });
        const m = rx.receive();
        assert.ok(m, 'the runtime sent the master');
        try {
          const seen = await askTerminal(m.fd);
          return { status: r.status, count: m.count, tty: seen.tty, size: seen.size };
        } finally {
          closeSync(m.fd);
        }
      } finally {
        rx.close();
      }
    },
    (s) => assert.deepEqual(s, { status: 0, count: 1, tty: '/dev/pts/N', size: '33 99' }),
  );

  sideBySide(
    'create with process.terminal: the init gets /dev/pts/0, consoleSize and /dev/console',
    async (sb) => {
      const id = sb.track(uniqueId('createt'));
      const config = terminalConfig();
      config.process.consoleSize = { height: 40, width: 120 };
      const rx = new ConsoleReceiver();
      try {
        const c = sb.run(['create', '--bundle', sb.bundle(config), '--console-socket', rx.path, id], { detached: true });
        assert.equal(c.status, 0, c.stderr);
        // As the shim does: only after the runtime has exited.
        const m = rx.receive();
        assert.ok(m, 'the runtime sent the master');
        try {
          assert.equal(sb.run(['start', id]).status, 0);
          const seen = await askTerminal(m.fd, `awk '$5=="/dev/console"{for(i=6;i<=NF;i++) if($i=="-") print "console=" $(i+1)}' /proc/self/mountinfo; `);
          await waitFor(() => sb.state(id)?.status === 'stopped', 10_000, 'the container to stop');
          return { count: m.count, name: m.name, tty: seen.tty, size: seen.size, console: /^console=(\S+?)\r?$/m.exec(seen.out)?.[1] };
        } finally {
          closeSync(m.fd);
        }
      } finally {
        rx.close();
      }
    },
    (s) => assert.deepEqual(s, { count: 1, name: '/dev/ptmx', tty: '/dev/pts/N', size: '40 120', console: 'devpts' }),
  );

  sideBySide(
    'bad input: a console socket that does not exist, or a terminal nobody receives',
    async (sb) => {
      const missing = join(sb.dir, 'nowhere', 'pty.sock');
      const withTerminal = sb.bundle(terminalConfig());
      const r1 = sb.run(['create', '-b', withTerminal, '--console-socket', missing, sb.track(uniqueId('nosock'))], { detached: true });
      const r2 = sb.run(['create', '-b', withTerminal, sb.track(uniqueId('noconsole'))], { detached: true });
      const rx = new ConsoleReceiver();
      let r3;
      try {
        r3 = sb.run(['create', '-b', sb.bundle(baseConfig(['true'])), '--console-socket', rx.path, sb.track(uniqueId('notty'))], { detached: true });
      } finally {
        rx.close();
      }
      // Only exit statuses and the emptiness are compared with runc; our words are checked below.
      return { missing: r1.status, noSocket: r2.status, noTerminal: r3.status, states: sb.run(['list', '-q']).stdout };
    },
    (s) => assert.deepEqual(s, { missing: 1, noSocket: 1, noTerminal: 1, states: '' }),
  );

  it('our errors are one clear line', withSandbox(OURS, (sb) => {
    const missing = join(sb.dir, 'nowhere', 'pty.sock');
    const r = sb.run(['create', '-b', sb.bundle(terminalConfig()), '--console-socket', missing, sb.track(uniqueId('nosock'))], { detached: true });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `mydocker-runc: --console-socket ${missing}: cannot connect: No such file or directory (ENOENT)\n`);
    const r2 = sb.run(['create', '-b', sb.bundle(terminalConfig()), sb.track(uniqueId('noconsole'))], { detached: true });
    assert.equal(r2.stderr, 'mydocker-runc: process.terminal is true: a --console-socket is needed to receive the terminal\n');
  }));
});

/** A command under a real pty (`script`), driven by waiting for its output, never by time. */
class UnderPty {
  out = '';
  private seen = 0;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(command: string) {
    this.child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: cleanEnv() });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  /** Wait for `re` in the output that came after the previous expect. */
  async expect(re: RegExp, what: string): Promise<string> {
    let m: RegExpExecArray | null = null;
    await waitFor(() => (m = re.exec(this.out.slice(this.seen))), 20_000, `${what} (output so far: ${JSON.stringify(this.out.slice(-300))})`);
    const match = m as unknown as RegExpExecArray;
    this.seen += match.index + match[0].length;
    return match[0];
  }

  send(s: string): void {
    this.child.stdin!.write(s);
  }

  async finish(): Promise<number | null> {
    const code = await this.exited;
    this.child.stdin!.end();
    return code;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/**
 * An interactive shell in the foreground: prompt, `tty`, Ctrl-C delivered to the container's
 * foreground job, its exit status back, and our terminal's settings unchanged afterwards.
 */
async function interactive(sb: Sandbox, runtimeArgs: (id: string) => string[]) {
  const id = sb.track(uniqueId('fg'));
  const before = join(sb.dir, 'stty-before');
  const after = join(sb.dir, 'stty-after');
  const rt = [...sb.runtime.argv, '--root', sb.root, ...runtimeArgs(id)].join(' ');
  const pty = new UnderPty(`stty rows 24 cols 80; stty -g > ${before}; ${rt}; echo rc=$?; stty -g > ${after}`);
  try {
    await pty.expect(/\/ # /, 'the prompt');
    pty.send('tty\r');
    const tty = await pty.expect(/\/dev\/pts\/\d+/, 'tty to answer');
    // A line typed before the shell is back at its prompt can be lost (busybox's line editor
    // resets the terminal when it takes over again): wait for the prompt each time.
    await pty.expect(/\/ # /, 'the prompt after tty');
    pty.send('stty size\r');
    const size = await pty.expect(/\d+ \d+\r?\n/, 'the window size');
    await pty.expect(/\/ # /, 'the prompt after stty');
    // The markers are split by quotes, so that the terminal's echo of the command never matches them.
    pty.send(`sh -c 'trap "echo go""t-INT; exit 0" INT; echo rea""dy; while :; do sleep 1; done'\r`);
    await pty.expect(/^ready\r?$/m, 'the trap to be set');
    pty.send('\x03');
    await pty.expect(/got-INT\r?\n/, 'Ctrl-C to reach the container'); // after the line discipline's echo of ^C
    await pty.expect(/\/ # /, 'the prompt after the trap');
    pty.send('exit 3\r');
    const rc = await pty.expect(/rc=\d+/, 'the runtime to exit');
    const code = await pty.finish();
    return {
      tty: tty.replace(/\d+$/, 'N'),
      size: size.trim(),
      rc,
      script: code,
      sttyRestored: readFileSync(before, 'utf8') === readFileSync(after, 'utf8'),
    };
  } finally {
    pty.kill();
  }
}

describe('foreground terminal (under script)', () => {
  sideBySide(
    'run with process.terminal: prompt, tty, Ctrl-C, exit status, terminal restored',
    async (sb) => interactive(sb, (id) => ['run', '-b', sb.bundle(terminalConfig()), id]),
    (s) => assert.deepEqual(s, { tty: '/dev/pts/N', size: '24 80', rc: 'rc=3', script: 0, sttyRestored: true }),
  );

  sideBySide(
    'exec -t: the same for a shell exec\'d into a running container',
    async (sb) => {
      const id = sb.track(uniqueId('running'));
      assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
      return interactive(sb, () => ['exec', '-t', id, 'sh']);
    },
    (s) => assert.deepEqual(s, { tty: '/dev/pts/N', size: '24 80', rc: 'rc=3', script: 0, sttyRestored: true }),
  );

  it('exec without a tty forwards SIGTERM to the process', withSandbox(OURS, async (sb) => {
    const id = sb.track(uniqueId('sig'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
    const out: string[] = [];
    const child = spawn(OURS.argv[0]!, [...OURS.argv.slice(1), '--root', sb.root, 'exec', id, 'sh', '-c', 'trap "echo got-TERM; exit 9" TERM; echo ready; while :; do sleep 1; done'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: cleanEnv(),
    });
    child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => out.join('').includes('ready'), 10_000, 'the trap to be set');
    child.kill('SIGTERM');
    assert.equal(await exited, 9);
    assert.match(out.join(''), /got-TERM/);
  }));
});
