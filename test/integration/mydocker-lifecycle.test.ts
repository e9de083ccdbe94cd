// mydocker's container verbs after run: stop, kill, rm, logs, exec, pause, wait, rename,
// restart, prune, top, inspect and ps — with podman as the control for states and logs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { cleanEnv, havePodman, MYDOCKER, Podman, waitFor, withMydocker } from '../helpers/mydocker.js';

describe('mydocker stop, kill, rm', () => {
  let podman: Podman | undefined;
  before(() => {
    if (havePodman()) podman = new Podman();
  });
  after(() => podman?.cleanup());

  it('stop: SIGTERM, and a container that ignores it is killed after -t (podman first)', withMydocker(async (md) => {
    const script = 'trap "" TERM; echo ready; while true; do sleep 0.1; done';
    if (podman) {
      podman.run(['run', '-d', '--name', 'stubborn', ...Podman.RUN_DEFAULTS, 'busybox', 'sh', '-c', script]);
      assert.equal(podman.run(['stop', '-t', '1', 'stubborn']).status, 0);
      assert.match(podman.run(['ps', '-a', '--format', '{{.Status}}', '--filter', 'name=stubborn']).stdout, /^Exited \(137\)/);
    }
    md.ok(['run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', script]);
    await waitFor(() => md.ok(['logs', 'stubborn']).includes('ready'), 10_000, 'ready');
    assert.equal(md.ok(['stop', '-t', '1', 'stubborn']), 'stubborn\n');
    assert.match(md.ok(['ps', '-a', '--format', '{{.Status}}']), /^Exited \(137\)/);
    // A process that handles SIGTERM exits with its own status (PID 1 without a handler ignores it).
    md.ok(['run', '-d', '--name', 'polite', 'busybox', 'sh', '-c', 'trap "exit 3" TERM; echo ready; while true; do sleep 0.1; done']);
    await waitFor(() => md.ok(['logs', 'polite']).includes('ready'), 10_000, 'ready');
    md.ok(['stop', 'polite']);
    assert.match(md.ok(['ps', '-a', '--filter', 'name=polite', '--format', '{{.Status}}']), /^Exited \(3\)/);
    assert.equal(md.run(['stop', 'polite']).status, 0, 'stopping a stopped container is no error');
  }));

  it('--stop-signal and the stop timeout are honoured', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 's1', '--stop-signal', 'SIGUSR1', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; echo ready; while true; do sleep 0.1; done']);
    await waitFor(() => md.ok(['logs', 's1']).includes('ready'), 10_000, 'ready');
    md.ok(['stop', 's1']);
    assert.equal(md.state('s1').ExitCode, 42);
  }));

  it('kill -s, and kill of a stopped container is an error', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'k1', 'busybox', 'sh', '-c', 'trap "exit 12" USR2; echo ready; while true; do sleep 0.1; done']);
    await waitFor(() => md.ok(['logs', 'k1']).includes('ready'), 10_000, 'ready');
    md.ok(['kill', '-s', 'USR2', 'k1']);
    await waitFor(() => md.state('k1').Status === 'exited', 10_000, 'exit');
    assert.equal(md.state('k1').ExitCode, 12);
    md.ok(['run', '-d', '--name', 'k2', 'busybox', 'sleep', '100']);
    md.ok(['kill', 'k2']);
    await waitFor(() => md.state('k2').Status === 'exited', 10_000, 'exit');
    assert.equal(md.state('k2').ExitCode, 137);
    const r = md.run(['kill', 'k1']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /is not running/);
  }));

  it('rm refuses a running container without -f, with docker\'s words; -f removes it', withMydocker((md) => {
    const id = md.ok(['run', '-d', '--name', 'r1', 'busybox', 'sleep', '100']).trim();
    const r = md.run(['rm', 'r1']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, new RegExp(`You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`));
    assert.equal(md.ok(['rm', '-f', 'r1']), 'r1\n');
    assert.equal(md.ok(['ps', '-aq']), '');
    const missing = md.run(['rm', 'nosuch']);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /No such container: nosuch/);
    assert.equal(md.run(['rm', '-f', 'nosuch']).status, 0);
  }));

  it('rm takes several containers, by name, full id or unique prefix', withMydocker((md) => {
    const a = md.ok(['create', '--name', 'a1', 'busybox', 'true']).trim();
    const b = md.ok(['create', 'busybox', 'true']).trim();
    const c = md.ok(['create', 'busybox', 'true']).trim();
    md.ok(['rm', 'a1', b, c.slice(0, 10)]);
    assert.equal(md.ok(['ps', '-aq']), '');
    assert.ok(a);
  }));
});

describe('mydocker logs', () => {
  it('stdout and stderr in order, -n, -t; the same lines as podman', withMydocker((md) => {
    const script = 'echo one; echo two >&2; echo three; printf partial';
    md.run(['run', '--name', 'l1', 'busybox', 'sh', '-c', script]);
    const r = md.run(['logs', 'l1']);
    assert.equal(r.stdout, 'one\nthree\npartial');
    assert.equal(r.stderr, 'two\n');
    assert.equal(md.ok(['logs', '-n', '1', 'l1']), 'partial');
    assert.match(md.ok(['logs', '-t', '--tail', '1', 'l1']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z partial$/);
    if (havePodman()) {
      const p = new Podman();
      try {
        p.run(['run', '--name', 'l1', ...Podman.RUN_DEFAULTS, 'busybox', 'sh', '-c', script]);
        const pl = p.run(['logs', 'l1']);
        assert.equal(pl.stdout + pl.stderr, 'one\nthree\npartialtwo\n'.replace('partialtwo\n', 'partial') + 'two\n', 'podman (control)');
      } finally {
        p.cleanup();
      }
    }
  }));

  it('logs -f follows until the container stops', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'f1', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done']);
    const follower = md.spawn(['logs', '-f', 'f1']);
    let out = '';
    follower.stdout!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => follower.on('exit', r));
    assert.equal(code, 0);
    assert.equal(out, 'tick 1\ntick 2\ntick 3\n');
  }));
});

describe('mydocker exec', () => {
  it("the container's environment, working directory and exit code; -e, -w, -u", withMydocker((md) => {
    md.ok(['run', '-d', '--name', 'e1', '-e', 'CTR=yes', '-w', '/tmp', 'busybox', 'sleep', '100']);
    const env = md.ok(['exec', '-e', 'EXTRA=1', 'e1', 'env']);
    assert.match(env, /^CTR=yes$/m);
    assert.match(env, /^EXTRA=1$/m);
    assert.equal(md.ok(['exec', 'e1', 'pwd']), '/tmp\n');
    assert.equal(md.ok(['exec', '-w', '/etc', 'e1', 'pwd']), '/etc\n');
    assert.equal(md.ok(['exec', '-u', 'daemon', 'e1', 'id', '-u']), '1\n');
    assert.equal(md.run(['exec', 'e1', 'sh', '-c', 'exit 9']).status, 9);
    assert.equal(md.ok(['exec', '-i', 'e1', 'cat'], { input: 'piped\n' }), 'piped\n');
    const nf = md.run(['exec', 'e1', 'nosuchcmd']);
    assert.equal(nf.status, 127, nf.stderr);
    md.ok(['exec', '-d', 'e1', 'sh', '-c', 'echo detached > /tmp/d']);
    assert.equal(md.ok(['exec', 'e1', 'sh', '-c', 'sleep 0.3; cat /tmp/d']), 'detached\n');
    md.ok(['stop', '-t', '0', 'e1']);
    const stopped = md.run(['exec', 'e1', 'true']);
    assert.equal(stopped.status, 125);
    assert.match(stopped.stderr, /is not running/);
  }));
});

describe('mydocker pause, wait, rename, restart, top, prune', () => {
  it('pause freezes, unpause thaws; ps says Paused', withMydocker((md) => {
    md.ok(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '100']);
    md.ok(['pause', 'p1']);
    assert.match(md.ok(['ps', '--format', '{{.Status}}']), /^Up .* \(Paused\)$/m);
    assert.equal(md.state('p1').Status, 'paused');
    md.ok(['unpause', 'p1']);
    assert.equal(md.state('p1').Status, 'running');
    md.ok(['rm', '-f', 'p1']);
  }));

  it('wait prints the exit code', withMydocker((md) => {
    md.ok(['run', '-d', '--name', 'w1', 'busybox', 'sh', '-c', 'sleep 0.5; exit 5']);
    assert.equal(md.ok(['wait', 'w1']), '5\n');
  }));

  it('rename keeps the container and frees the old name', withMydocker((md) => {
    md.ok(['create', '--name', 'old', 'busybox', 'true']);
    md.ok(['rename', 'old', 'new']);
    assert.equal(md.ok(['ps', '-a', '--format', '{{.Names}}']), 'new\n');
    md.ok(['create', '--name', 'old', 'busybox', 'true']);
    const r = md.run(['rename', 'old', 'new']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /already in use/);
    const bad = md.run(['create', '--name', '-bad', 'busybox', 'true']);
    assert.equal(bad.status, 125);
  }));

  it('restart runs it again; start starts a stopped container', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'rs', 'busybox', 'sh', '-c', 'echo run; sleep 100']);
    md.ok(['restart', '-t', '0', 'rs']);
    assert.equal(md.state('rs').Status, 'running');
    await waitFor(() => md.ok(['logs', 'rs']) === 'run\nrun\n', 10_000, 'two runs in the log');
    md.ok(['stop', '-t', '0', 'rs']);
    md.ok(['start', 'rs']);
    assert.equal(md.state('rs').Status, 'running');
    md.ok(['create', '--name', 'fresh', 'busybox', 'sh', '-c', 'exit 3']);
    assert.match(md.ok(['ps', '-a', '--filter', 'name=fresh', '--format', '{{.Status}}']), /^Created$/m);
    assert.equal(md.run(['start', '-a', 'fresh']).status, 3);
  }));

  it('top lists the container processes', withMydocker((md) => {
    md.ok(['run', '-d', '--name', 't1', 'busybox', 'sleep', '100']);
    const out = md.ok(['top', 't1']);
    assert.match(out, /PID/);
    assert.match(out, /sleep 100/);
  }));

  it('container prune removes stopped containers only', withMydocker((md) => {
    md.ok(['run', '-d', '--name', 'alive', 'busybox', 'sleep', '100']);
    md.run(['run', '--name', 'dead', 'busybox', 'true']);
    md.ok(['container', 'prune', '-f']);
    assert.equal(md.ok(['ps', '-a', '--format', '{{.Names}}']), 'alive\n');
  }));
});

/** `mydocker ARGS` on a terminal of its own (script(1)'s pty): what it printed, its exit status. */
function onTerminal(root: string, args: string[]) {
  const cmd = [process.execPath, MYDOCKER, '--root', root, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const p = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...cleanEnv(), COLUMNS: '100', LINES: '30' } });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
  return { p, output: () => out, exited, type: (s: string) => p.stdin!.write(s) };
}

describe('mydocker attach and the detach keys', () => {
  it('attach: the output from then on (stdout and stderr), stdin with -i, the exit code; a stopped container is refused', withMydocker(async (md) => {
    md.ok(['run', '-d', '--network', 'none', '--name', 'ticker', 'busybox', 'sh', '-c', 'sleep 1; echo out; echo err >&2; exit 6']);
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = md.spawn(['attach', 'ticker']);
      let stdout = '';
      let stderr = '';
      p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
    assert.deepEqual(r, { status: 6, stdout: 'out\n', stderr: 'err\n' });
    const refused = md.run(['attach', 'ticker']);
    assert.equal(refused.status, 125);
    assert.equal(refused.stderr, 'mydocker: You cannot attach to a stopped container, start it first\n');
    md.ok(['run', '-d', '-i', '--network', 'none', '--name', 'reader', 'busybox', 'sh', '-c', 'read line; echo "got:$line"; exit 3']);
    const fed = md.run(['attach', 'reader'], { input: 'hello\n' });
    assert.equal(fed.status, 3, fed.stderr);
    assert.equal(fed.stdout, 'got:hello\n');
    assert.equal(md.run(['attach', '--sig-proxy', 'maybe', 'reader']).status, 125);
  }));

  it('ctrl-p ctrl-q detaches attach and run -it, leaving the shell running; --detach-keys; exit ends attach with the code', withMydocker(async (md) => {
    md.ok(['run', '-dit', '--network', 'none', '--name', 'shell', 'busybox', 'sh']);
    const a = onTerminal(md.root, ['attach', 'shell']);
    try {
      await new Promise((r) => setTimeout(r, 1000)); // attached, its terminal in raw mode
      a.type('echo mark-$((6*7))\n');
      await waitFor(() => a.output().includes('mark-42'), 10_000, 'the shell answers through attach');
      a.type('\x10\x11');
      assert.equal(await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('hung'), 10_000))]), 0, 'detached: attach exits 0');
    } finally {
      a.p.kill('SIGKILL');
    }
    assert.equal(md.state('shell').Running, true, 'the shell runs on after a detach');
    assert.equal(md.ok(['exec', 'shell', 'echo', 'alive']), 'alive\n');

    const b = onTerminal(md.root, ['attach', '--detach-keys', 'ctrl-a,x', 'shell']);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      // The default keys mean nothing here: they reach the shell (ctrl-p recalls a line, which
      // ctrl-u clears), and so does the rest.
      b.type('\x10\x11\x15exit 9\n');
      assert.equal(await Promise.race([b.exited, new Promise((r) => setTimeout(() => r('hung'), 10_000))]), 9, 'the exit code of the shell');
    } finally {
      b.p.kill('SIGKILL');
    }

    const c = onTerminal(md.root, ['run', '-it', '--network', 'none', '--name', 'fg', 'busybox', 'sh']);
    try {
      await waitFor(() => c.output().includes('#'), 10_000, 'a prompt');
      c.type('\x10\x11');
      assert.equal(await Promise.race([c.exited, new Promise((r) => setTimeout(() => r('hung'), 10_000))]), 0);
    } finally {
      c.p.kill('SIGKILL');
    }
    assert.equal(md.state('fg').Running, true, 'run -it detached: the container runs on');
    const bad = md.run(['attach', '--detach-keys', 'ctrl-', 'fg']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /^mydocker: --detach-keys "ctrl-": invalid key "ctrl-"/);
  }));
});

describe('mydocker stats', () => {
  it("docker's columns and figures: CPU of a busy loop, the memory limit, pids, network bytes; -a, --format, --no-trunc", withMydocker(async (md) => {
    const busy = md.ok(['run', '-d', '--name', 'busy', '-m', '64m', 'busybox', 'sh', '-c', 'while :; do :; done']).trim();
    md.ok(['run', '-d', '--name', 'idle', 'busybox', 'sh', '-c', 'sleep 300 & sleep 300 & wait']);
    md.ok(['run', '--name', 'gone', '--network', 'none', 'busybox', 'true']);
    // Some traffic on idle's interface: pings to its gateway.
    md.ok(['exec', 'idle', 'sh', '-c', 'ping -c3 -i0.2 -W1 "$(ip route | awk \'/default/ {print $3}\')" >/dev/null']);
    const table = md.ok(['stats', '--no-stream']).trimEnd().split('\n');
    assert.match(table[0]!, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/);
    assert.deepEqual(table.slice(1).map((l) => l.split(/\s{3,}/)[1]).sort(), ['busy', 'idle'], 'running containers only');
    const fields = (name: string, extra: string[] = []) => {
      const line = md.ok(['stats', '--no-stream', ...extra, '--format', '{{.ID}}|{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}', name]).trim();
      const [id, n, cpu, mem, memPerc, net, blk, pids] = line.split('|');
      return { id, n, cpu: parseFloat(cpu!), mem: mem!, memPerc: parseFloat(memPerc!), net: net!, blk: blk!, pids: Number(pids) };
    };
    const b = fields('busy');
    assert.equal(b.id, busy.slice(0, 12));
    // One CPU spinning is ~100 % (a loaded CI machine gives it less, never nothing).
    assert.ok(b.cpu > 20 && b.cpu < 210, `busy CPU ${b.cpu}%`);
    assert.match(b.mem, /^[\d.]+(B|KiB|MiB) \/ 64MiB$/);
    assert.ok(b.memPerc > 0 && b.memPerc < 100);
    assert.equal(b.pids, 1);
    const i = fields('idle');
    assert.ok(i.cpu < 20, `idle CPU ${i.cpu}%`);
    assert.equal(i.pids, 3, 'sh and its two sleeps');
    assert.match(i.net, /^[\d.]+(kB|MB) \/ [\d.]+(B|kB|MB)$/, `three pings went through eth0: ${i.net}`);
    assert.match(i.mem, /\/ [\d.]+GiB$/, 'no limit: the host memory');
    assert.equal(fields('busy', ['--no-trunc']).id, busy);
    // -a: a stopped container has no figures; a named one is shown whatever its state.
    const all = md.ok(['stats', '-a', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}']);
    assert.match(all, /^gone 0B \/ 0B 0$/m);
    assert.equal(md.ok(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}}', 'gone']), 'gone 0.00%\n');
    const r = md.run(['stats', '--no-stream', 'nosuch']);
    assert.equal(r.status, 125);
    assert.equal(r.stderr, 'mydocker: No such container: nosuch\n');
  }));

  it('without --no-stream: a table a second until interrupted', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 's1', 'busybox', 'sleep', '300']);
    const p = md.spawn(['stats']);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => p.on('exit', r));
    try {
      await waitFor(() => (out.match(/^CONTAINER ID/gm) ?? []).length >= 2, 10_000, 'two tables');
    } finally {
      p.kill('SIGINT');
      await exited;
    }
    assert.doesNotMatch(out, /\x1b\[/, 'no screen control codes when stdout is not a terminal');
    assert.match(out, /\ts1|\s{3}s1\s{3}/);
  }));
});

describe('mydocker ps and inspect', () => {
  it('columns, -q, --no-trunc, --format templates, -a, -n/-l', withMydocker((md) => {
    const id = md.ok(['run', '-d', '--name', 'up1', 'busybox', 'sleep', '100']).trim();
    md.run(['run', '--name', 'ex1', 'busybox', 'sh', '-c', 'exit 2']);
    const table = md.ok(['ps']).split('\n');
    assert.match(table[0]!, /^CONTAINER ID {3}IMAGE {5}COMMAND {3,}CREATED {3,}STATUS {3,}PORTS {3,}NAMES$/);
    assert.match(table[1]!, new RegExp(`^${id.slice(0, 12)} {3}busybox {3}"sleep 100" {3,}\\S`));
    assert.equal(table[0]!.indexOf('STATUS'), table[1]!.indexOf('Up '), 'columns aligned');
    assert.equal(md.ok(['ps', '-q']), `${id.slice(0, 12)}\n`);
    assert.equal(md.ok(['ps', '-q', '--no-trunc']), `${id}\n`);
    assert.equal(md.ok(['ps', '-a', '--format', '{{.Names}}']).split('\n').filter(Boolean).sort().join(','), 'ex1,up1');
    assert.equal(md.ok(['ps', '-l', '--format', '{{.Names}}:{{.State}}']), 'ex1:exited\n');
    assert.match(md.ok(['ps', '--format', 'table {{.ID}}\t{{.Status}}']), /^CONTAINER ID {3}STATUS\n[0-9a-f]{12} {3}Up /);
    assert.equal(md.run(['ps', '--format', '{{.Nope}}']).status, 125);
  }));

  it('inspect: State, Config, HostConfig, Mounts, -f templates', withMydocker((md) => {
    md.ok(['run', '-d', '--name', 'i1', '-e', 'K=V', '-m', '32m', '-v', '/i1data', 'busybox', 'sleep', '100']);
    const [c] = JSON.parse(md.ok(['inspect', 'i1']));
    assert.equal(c.Name, '/i1');
    assert.equal(c.State.Status, 'running');
    assert.equal(c.State.Running, true);
    assert.ok(c.State.Pid > 0);
    assert.ok(c.Config.Env.includes('K=V'));
    assert.deepEqual(c.Config.Cmd, ['sleep', '100']);
    assert.equal(c.HostConfig.Memory, 32 << 20);
    assert.equal(c.Mounts[0].Type, 'volume');
    assert.equal(c.Mounts[0].Destination, '/i1data');
    assert.equal(md.ok(['inspect', '-f', '{{.State.Status}} {{json .Config.Cmd}}', 'i1']), 'running ["sleep","100"]\n');
    assert.equal(md.ok(['inspect', '--format', '{{range .Config.Env}}{{if eq . "K=V"}}found{{end}}{{end}}', 'i1']), 'found\n');
    const pid = md.state('i1').Pid;
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep/);
    const r = md.run(['inspect', 'nosuch']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /No such object: nosuch/);
  }));
});
