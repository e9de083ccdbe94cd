// mydocker run, end to end on the real kernel (overlayfs, conmon, the runtime), with podman
// running the same scenarios first as the control where it has the feature.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { havePodman, MydockerSandbox, Podman, waitFor, withMydocker } from '../helpers/mydocker.js';

describe('mydocker run: output and exit codes, podman first', () => {
  let podman: Podman | undefined;
  const md = new MydockerSandbox();
  before(() => {
    if (havePodman()) podman = new Podman();
  });
  after(async () => {
    podman?.cleanup();
    await md.cleanup();
  });

  const cases: { name: string; args: string[]; status: number; stdout?: string; stderr?: RegExp }[] = [
    { name: 'echo hi', args: ['busybox', 'echo', 'hi'], status: 0, stdout: 'hi\n' },
    { name: 'the exit status', args: ['busybox', 'sh', '-c', 'exit 3'], status: 3, stdout: '' },
    { name: 'stdout and stderr apart', args: ['busybox', 'sh', '-c', 'echo out; echo err >&2'], status: 0, stdout: 'out\n' },
    { name: 'a missing command: 127', args: ['busybox', 'nosuchcommand'], status: 127 },
    { name: 'a missing path: 127', args: ['busybox', '/no/such/file'], status: 127 },
    { name: 'a file that cannot run: 126', args: ['busybox', '/etc/passwd'], status: 126 },
    // PID 1 cannot be killed from inside its namespace: a child is.
    { name: 'killed by a signal: 128+n', args: ['busybox', 'sh', '-c', 'sh -c "kill -9 \\$\\$"; exit $?'], status: 137 },
    { name: 'a bad flag value: 125', args: ['-m', 'banana', 'busybox', 'true'], status: 125, stderr: /--memory/ },
    { name: 'an unknown flag: 125', args: ['--no-such-flag', 'busybox', 'true'], status: 125, stderr: /no-such-flag/ },
    { name: 'an unknown image: 125', args: ['no-such-image-here', 'true'], status: 125, stderr: /no-such-image-here/ },
  ];
  for (const c of cases) {
    it(`${c.name}`, () => {
      if (podman) {
        const p = podman.run(['run', '--rm', ...Podman.RUN_DEFAULTS, ...c.args]);
        assert.equal(p.status, c.status, `podman (control): ${p.stderr}`);
        if (c.stdout !== undefined) assert.equal(p.stdout, c.stdout, 'podman (control) stdout');
      }
      const r = md.run(['run', '--rm', ...c.args]);
      assert.equal(r.status, c.status, r.stderr);
      if (c.stdout !== undefined) assert.equal(r.stdout, c.stdout);
      if (c.stderr) assert.match(r.stderr, c.stderr);
      if (c.status >= 125) assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('See ')).length, 1, `one line of error: ${r.stderr}`);
    });
  }

  it('--cpus: 0 is no limit; outside 0.01..ncpu, docker\'s range message and 125', () => {
    const n = availableParallelism();
    for (const v of ['-1', '0.001', String(n + 1)]) {
      const r = md.run(['run', '--rm', '--cpus', v, 'busybox', 'true']);
      assert.equal(r.status, 125, r.stderr);
      assert.equal(r.stderr.trim(), `mydocker: --cpus ${v}: range of CPUs is from 0.01 to ${n}.00, as there ${n === 1 ? 'is only 1 CPU' : `are only ${n} CPUs`} available`);
    }
    assert.match(md.run(['run', '--rm', '--cpus', '1e3', 'busybox', 'true']).stderr, /^mydocker: invalid argument "1e3" for "--cpus" flag: not a number/);
    assert.equal(md.run(['run', '--rm', '--cpus', '0', 'busybox', 'true']).status, 0);
    assert.equal(md.ok(['ps', '-aq']), '', 'nothing left by the refused runs');
  });

  it('stderr goes to stderr, in order', () => {
    const r = md.run(['run', '--rm', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; echo out2']);
    assert.equal(r.stdout, 'out1\nout2\n');
    assert.equal(r.stderr, 'err1\n');
  });

  it('--rm leaves no container; without it the container stays, exited', () => {
    assert.equal(md.ok(['ps', '-aq']), '');
    assert.equal(md.run(['run', '--name', 'kept', 'busybox', 'sh', '-c', 'exit 4']).status, 4);
    assert.match(md.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), /^kept Exited \(4\) /m);
    md.ok(['rm', 'kept']);
  });
});

describe('mydocker run: configuration of the process', () => {
  it('-e, --env-file, image env, and no host environment', withMydocker((md) => {
    const envFile = join(md.dir, 'env.list');
    writeFileSync(envFile, '# a comment\nFROM_FILE=1\nSHARED=file\n\n');
    const out = md.ok(['run', '--rm', '-e', 'A=1', '--env-file', envFile, '-e', 'SHARED=flag', '-e', 'PASSED', 'busybox', 'env'], {
      env: { HOST_SECRET: 'leak', PASSED: 'through' },
    });
    const env = out.trim().split('\n').sort();
    assert.ok(env.includes('A=1'));
    assert.ok(env.includes('FROM_FILE=1'));
    assert.ok(env.includes('SHARED=flag'), 'a later -e wins');
    assert.ok(env.includes('PASSED=through'), '-e NAME takes the caller value');
    assert.ok(env.some((e) => e.startsWith('PATH=')));
    assert.ok(env.some((e) => e.startsWith('HOSTNAME=')));
    assert.ok(env.includes('HOME=/root'));
    assert.ok(!env.some((e) => e.startsWith('HOST_SECRET')), 'the host environment never leaks in');
  }));

  it('argv is kept as given, never joined into one string', withMydocker((md) => {
    const out = md.ok(['run', '--rm', 'busybox', 'sh', '-c', 'for a in "$@"; do echo "[$a]"; done', 'x', 'a b', '', '$HOME']);
    assert.equal(out, '[a b]\n[]\n[$HOME]\n');
  }));

  it('-u by name from the image passwd, -w, -h, --entrypoint', withMydocker((md) => {
    assert.equal(md.ok(['run', '--rm', '-u', 'daemon', 'busybox', 'id', '-u']), '1\n');
    assert.equal(md.ok(['run', '--rm', '-u', 'nobody:daemon', 'busybox', 'id', '-g']), '1\n');
    assert.equal(md.ok(['run', '--rm', '-w', '/tmp/new/dir', 'busybox', 'pwd']), '/tmp/new/dir\n');
    assert.equal(md.ok(['run', '--rm', '-h', 'box1', 'busybox', 'hostname']), 'box1\n');
    assert.equal(md.ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint']), 'via entrypoint\n');
    const r = md.run(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /nosuchuser/);
  }));

  it('--read-only: the rootfs refuses writes, volumes and tmpfs do not', withMydocker((md) => {
    const r = md.run(['run', '--rm', '--read-only', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'touch /x 2>&1; touch /scratch/y && echo tmpfs-ok']);
    assert.match(r.stdout, /Read-only file system/);
    assert.match(r.stdout, /tmpfs-ok/);
  }));

  it('a default hostname of the short id, and the generated /etc files', withMydocker((md) => {
    md.ok(['run', '--name', 'h1', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; grep -c localhost /etc/hosts']);
    const id = md.ok(['inspect', '--format', '{{.Id}}', 'h1']).trim();
    const logs = md.ok(['logs', 'h1']).split('\n');
    assert.equal(logs[0], id.slice(0, 12));
    assert.equal(logs[1], id.slice(0, 12));
    assert.ok(Number(logs[2]) >= 1);
  }));

  it('the book image-less form runs the command in the default image; an image of that name wins', withMydocker((md) => {
    assert.equal(md.ok(['run', '--rm', 'echo', 'book', 'style']), 'book style\n');
    const r = md.run(['run', '--rm', 'notacommandanywhere']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /notacommandanywhere/);
  }));
});

describe('mydocker run: the book spellings', () => {
  it('-cpushare, -cpuset, -mem, -net, -name and -ti parse as docker flags', withMydocker((md) => {
    md.ok(['run', '-d', '-name', 'book1', '-cpushare', '512', '-cpuset', '0', '-mem', '64m', '-net', 'none', 'busybox', 'sleep', '30']);
    const hc = JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig}}', 'book1']));
    assert.equal(hc.CpuShares, 512);
    assert.equal(hc.CpusetCpus, '0');
    assert.equal(hc.Memory, 64 * 1024 * 1024);
    assert.equal(hc.NetworkMode, 'none');
    md.ok(['rm', '-f', 'book1']);
  }));

  it('flags after the image belong to the command', withMydocker((md) => {
    assert.equal(md.ok(['run', '--rm', 'busybox', 'echo', '-name', '-e', 'x', '-d']), '-name -e x -d\n');
  }));
});

describe('mydocker run: volumes', () => {
  it('-v host:ctr writes through to the host; :ro refuses; rm -f never deletes the host dir', withMydocker((md) => {
    const host = mkdtempSync(join(tmpdir(), 'mydocker-test-vol-'));
    try {
      writeFileSync(join(host, 'keep.txt'), 'precious');
      md.ok(['run', '--name', 'v1', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'echo from-container > /data/new.txt; cat /data/keep.txt']);
      assert.equal(readFileSync(join(host, 'new.txt'), 'utf8'), 'from-container\n');
      const ro = md.run(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'touch /data/x']);
      assert.notEqual(ro.status, 0);
      md.ok(['rm', '-f', '-v', 'v1']);
      assert.equal(readFileSync(join(host, 'keep.txt'), 'utf8'), 'precious');
      assert.ok(existsSync(join(host, 'new.txt')));
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  }));

  it('a missing host dir is created (docker -v); the book example with /root-style paths', withMydocker((md) => {
    const host = join(md.dir, 'volume');
    md.ok(['run', '--rm', '-v', `${host}:/containerVolume`, 'busybox', 'sh', '-c', 'echo book > /containerVolume/f']);
    assert.equal(readFileSync(join(host, 'f'), 'utf8'), 'book\n');
  }));

  it('named volumes outlive containers; in use they cannot be removed; anonymous ones go with rm -v', withMydocker((md) => {
    md.ok(['run', '--rm', '-v', 'data1:/d', 'busybox', 'sh', '-c', 'echo persisted > /d/f']);
    assert.equal(md.ok(['run', '--rm', '-v', 'data1:/d', 'busybox', 'cat', '/d/f']), 'persisted\n');
    assert.match(md.ok(['volume', 'ls', '-q']), /^data1$/m);
    md.ok(['run', '-d', '--name', 'user1', '-v', 'data1:/d', 'busybox', 'sleep', '30']);
    const r = md.run(['volume', 'rm', 'data1']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /in use/);
    md.ok(['rm', '-f', 'user1']);
    md.ok(['volume', 'rm', 'data1']);
    md.ok(['run', '--name', 'anon', '-v', '/anon', 'busybox', 'true']);
    const vols = md.ok(['volume', 'ls', '-q']).trim().split('\n').filter(Boolean);
    assert.equal(vols.length, 1);
    md.ok(['rm', '-v', 'anon']);
    assert.equal(md.ok(['volume', 'ls', '-q']), '');
  }));

  it("a new volume gets the image's content at its path (docker's copy-up), unless nocopy", withMydocker((md) => {
    assert.match(md.ok(['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'cat', '/etc/passwd']), /^root:x:0:0:/);
    const hosts = md.ok(['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'cat', '/etc/hosts']);
    assert.match(hosts, /localhost/, 'the generated /etc/hosts is mounted over the volume, not under it');
    md.ok(['run', '--name', 'seeder', 'busybox', 'sh', '-c', 'mkdir /data && echo seed > /data/seed']);
    md.ok(['commit', '-c', 'VOLUME /data', 'seeder', 'volimg']);
    assert.equal(md.ok(['run', '--rm', 'volimg', 'cat', '/data/seed']), 'seed\n', "an image VOLUME keeps the image's files");
    assert.equal(md.run(['run', '--rm', '-v', 'empty:/bin:nocopy', 'busybox', 'ls']).status, 127, 'nocopy: the volume hides /bin');
  }));

  it('bad -v specs are one-line errors and leave nothing', withMydocker((md) => {
    for (const v of ['relative:path', 'rel/dir:/x', '/a:/b:bogus', ':/x', '/a:relative']) {
      const r = md.run(['run', '--rm', '-v', v, 'busybox', 'true']);
      assert.equal(r.status, 125, v);
      assert.match(r.stderr, /^mydocker: -v /, v);
    }
    assert.equal(md.ids().length, 0);
    assert.equal(md.ok(['volume', 'ls', '-q']), '');
  }));
});

describe('mydocker run: resources reach the cgroup', () => {
  it('-m, --memory-swap, --cpus, -c, --cpuset-cpus, --pids-limit', withMydocker((md) => {
    const id = md.ok(['run', '-d', '-m', '64m', '--memory-swap', '128m', '--cpus', '0.5', '-c', '256', '--cpuset-cpus', '0', '--pids-limit', '20', 'busybox', 'sleep', '30']).trim();
    const pid = md.state(id).Pid;
    const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const path = (ctrl: string) => {
      const line = cg.split('\n').find((l) => l.split(':')[1]?.split(',').includes(ctrl));
      // The hierarchy is mounted under its controller list (cpu,cpuacct co-mounted or not).
      return line ? join('/sys/fs/cgroup', line.split(':')[1]!, line.split(':')[2]!) : null;
    };
    const v2 = cg.startsWith('0::') && !cg.includes(':memory:');
    if (v2) {
      const dir = join('/sys/fs/cgroup', cg.trim().split(':')[2]!);
      assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8').trim(), String(64 << 20));
      assert.equal(readFileSync(join(dir, 'cpu.max'), 'utf8').trim(), '50000 100000');
      assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8').trim(), '20');
    } else {
      assert.equal(readFileSync(join(path('memory')!, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
      assert.equal(readFileSync(join(path('memory')!, 'memory.memsw.limit_in_bytes'), 'utf8').trim().length > 0, true);
      assert.equal(readFileSync(join(path('cpu')!, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
      assert.equal(readFileSync(join(path('cpu')!, 'cpu.shares'), 'utf8').trim(), '256');
      assert.equal(readFileSync(join(path('cpuset')!, 'cpuset.cpus'), 'utf8').trim(), '0');
      assert.equal(readFileSync(join(path('pids')!, 'pids.max'), 'utf8').trim(), '20');
    }
    md.ok(['rm', '-f', id]);
  }));

  it('a memory hog is OOM-killed under -m', withMydocker((md) => {
    const r = md.run(['run', '--name', 'hog', '-m', '8m', '--memory-swap', '8m', 'busybox', 'sh', '-c', 'x=a; while true; do x="$x$x"; done']);
    assert.equal(r.status, 137, r.stderr);
  }));
});

describe('mydocker run: detached containers', () => {
  it('-d prints the full id; ps shows Up; it exits on its own and ps shows its code', withMydocker(async (md) => {
    const id = md.ok(['run', '-d', '--name', 'd1', 'busybox', 'sh', '-c', 'echo started; until [ -e /tmp/go ]; do sleep 0.1; done; exit 7']).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(md.ok(['ps', '--format', '{{.ID}} {{.Names}} {{.Status}}']), new RegExp(`^${id.slice(0, 12)} d1 Up `, 'm'));
    md.ok(['exec', 'd1', 'touch', '/tmp/go']);
    await waitFor(() => md.state('d1').Status === 'exited', 15_000, 'the container to exit');
    assert.match(md.ok(['ps', '-a', '--format', '{{.Status}}']), /^Exited \(7\) /);
    assert.equal(md.ok(['ps', '-q']), '', 'not running any more');
    assert.equal(md.ok(['logs', 'd1']), 'started\n');
  }));

  it('-d --rm removes the container when it exits', withMydocker(async (md) => {
    md.ok(['run', '-d', '--rm', '--name', 'gone', 'busybox', 'true']);
    await waitFor(() => md.ids().length === 0, 15_000, 'the container to be removed');
  }));

  it('20 parallel run -d with distinct names all succeed; one name twice gives one container', withMydocker(async (md) => {
    const runs = Array.from({ length: 20 }, (_, i) => md.spawn(['run', '-d', '--name', `p${i}`, 'busybox', 'sleep', '60']));
    const errs = runs.map(() => '');
    runs.forEach((c, i) => c.stderr!.on('data', (d) => (errs[i] += d)));
    const codes = await Promise.all(runs.map((c) => new Promise<number | null>((r) => c.on('exit', r))));
    assert.deepEqual(codes, Array(20).fill(0), errs.filter(Boolean).join('\n'));
    assert.equal(md.ok(['ps', '-q']).trim().split('\n').length, 20);
    const twins = [0, 1].map(() => md.spawn(['run', '-d', '--name', 'twin', 'busybox', 'sleep', '60']));
    const stderr: string[] = ['', ''];
    twins.forEach((c, i) => c.stderr!.on('data', (d) => (stderr[i] += d)));
    const tc = await Promise.all(twins.map((c) => new Promise<number | null>((r) => c.on('exit', r))));
    assert.deepEqual([...tc].sort(), [0, 125]);
    assert.match(stderr.join(''), /already in use/);
    assert.equal(md.ok(['ps', '-a', '--filter', 'name=twin', '-q']).trim().split('\n').length, 1);
  }));
});

describe('mydocker: book examples verbatim', () => {
  it('run -d --name bird top; logs bird; exec bird sh; stop; rm', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'bird', 'top']);
    await waitFor(() => md.ok(['logs', 'bird']).includes('PID'), 10_000, 'top output in the log');
    assert.match(md.ok(['exec', 'bird', 'sh', '-c', 'ps']), /top/);
    md.ok(['stop', 'bird']);
    md.ok(['rm', 'bird']);
    mkdirSync(join(md.dir, 'unused'), { recursive: true });
  }));
});
