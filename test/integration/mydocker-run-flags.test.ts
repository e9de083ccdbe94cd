// docker's run flags beyond the book's: --mount, --volumes-from, --pid/--ipc/--uts host,
// --sysctl, --group-add, the CFS and memory knobs, --cidfile, --pull, --label-file. Each
// scenario runs under podman first (the control) where podman has the flag, then under
// mydocker, and the container's own view is compared; bad values are one line and exit 125.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cgroupsOf, havePodman, mountsUnder, MydockerSandbox, Podman, withMydocker } from '../helpers/mydocker.js';

describe('mydocker run: docker\'s other flags, podman first', () => {
  let podman: Podman | undefined;
  const md = new MydockerSandbox();
  let src: string;
  before(() => {
    if (havePodman()) podman = new Podman();
    src = join(md.dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'f'), 'data\n');
  });
  after(async () => {
    podman?.cleanup();
    await md.cleanup();
  });

  /** The same run under podman (when here) and mydocker; both outputs, ours checked for success. */
  function both(args: string[]): { ours: string; theirs?: string } {
    let theirs: string | undefined;
    if (podman) {
      const p = podman.run(['run', '--rm', ...Podman.RUN_DEFAULTS, ...args]);
      assert.equal(p.status, 0, `podman (control): ${p.stderr}`);
      theirs = p.stdout;
    }
    const r = md.run(['run', '--rm', '--network', 'none', ...args]);
    assert.equal(r.status, 0, r.stderr);
    return { ours: r.stdout, ...(theirs !== undefined ? { theirs } : {}) };
  }

  const sameAsPodman = (args: string[], expected?: string) => {
    const { ours, theirs } = both(args);
    if (theirs !== undefined) assert.equal(ours, theirs, 'as podman');
    if (expected !== undefined) assert.equal(ours, expected);
  };

  it('--mount type=bind: the host path, readonly refused writes; a missing source is refused (not created, unlike -v)', () => {
    sameAsPodman(['--mount', `type=bind,source=${src},target=/data,readonly`, 'busybox', 'sh', '-c', 'cat /data/f; touch /data/x 2>/dev/null || echo refused'], 'data\nrefused\n');
    const missing = join(md.dir, 'missing');
    const r = md.run(['run', '--rm', '--mount', `type=bind,src=${missing},dst=/data`, 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.equal(r.stderr, `mydocker: invalid argument "type=bind,src=${missing},dst=/data" for "--mount" flag: bind source path does not exist: ${missing}\n`);
    assert.equal(existsSync(missing), false, 'not created');
  });

  it('--mount type=tmpfs with size and mode; type=volume (the default) named and read-only', () => {
    sameAsPodman(['--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770', 'busybox', 'sh', '-c', 'stat -c %a /t; df -k /t | tail -1 | awk "{print \\$2}"'], '1770\n1024\n');
    md.ok(['run', '--rm', '--network', 'none', '--mount', 'source=mvol,target=/v', 'busybox', 'sh', '-c', 'echo kept > /v/x']);
    const r = md.run(['run', '--rm', '--network', 'none', '--mount', 'src=mvol,dst=/v,ro', 'busybox', 'sh', '-c', 'cat /v/x; touch /v/y 2>/dev/null || echo refused']);
    assert.equal(r.stdout, 'kept\nrefused\n', r.stderr);
    md.ok(['volume', 'rm', 'mvol']);
  });

  it('--mount: bad specs are one line naming the flag', () => {
    for (const [spec, says] of [
      ['type=bind,target=/x,foo=bar', /unexpected key 'foo' in 'foo=bar'/],
      ['type=bind,source=relative,target=/x', /mount path must be absolute/],
      ['type=volume', /target is required/],
      ['type=nfs,target=/x', /invalid mount type "nfs"/],
      ['type=volume,target=/x,tmpfs-size=1m', /cannot mix 'tmpfs-size' options with type 'volume'/],
    ] as const) {
      const r = md.run(['run', '--rm', '--mount', spec, 'busybox', 'true']);
      assert.equal(r.status, 125, spec);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /"--mount" flag/);
      assert.match(r.stderr, says);
    }
  });

  it('--pid host sees the host\'s processes; --uts host has the host\'s name; --ipc host and none', () => {
    const { ours, theirs } = both(['--pid', 'host', 'busybox', 'sh', '-c', 'test -d /proc/1 && cat /proc/1/comm']);
    const hostInit = readFileSync('/proc/1/comm', 'utf8');
    assert.equal(ours, hostInit, 'pid 1 is the host\'s init');
    if (theirs !== undefined) assert.equal(theirs, hostInit, 'podman (control)');
    sameAsPodman(['--uts', 'host', 'busybox', 'hostname'], `${hostname()}\n`);
    // The host's /dev/shm: a file made there is seen inside.
    const marker = `mydocker-test-shm-${process.pid}`;
    writeFileSync(join('/dev/shm', marker), 'x');
    try {
      sameAsPodman(['--ipc', 'host', 'busybox', 'ls', `/dev/shm/${marker}`], `/dev/shm/${marker}\n`);
    } finally {
      rmSync(join('/dev/shm', marker), { force: true });
    }
    sameAsPodman(['--ipc', 'none', 'busybox', 'sh', '-c', 'test -e /dev/shm && echo shm || echo none'], 'none\n');
    assert.match(md.run(['run', '--rm', '--uts', 'host', '-h', 'x', 'busybox', 'true']).stderr, /^mydocker: Conflicting options: --hostname and --uts=host\n$/);
    assert.match(md.run(['run', '--rm', '--ipc', 'container:x', 'busybox', 'true']).stderr, /--ipc container:x: joining another container's namespace is not supported/);
  });

  it('--sysctl: namespaced ones are set; others, and net.* with the host\'s network, refused by name', () => {
    sameAsPodman(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=12345678', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmax'], '1\n12345678\n');
    const vm = md.run(['run', '--rm', '--sysctl', 'vm.swappiness=1', 'busybox', 'true']);
    assert.equal(vm.status, 125);
    assert.match(vm.stderr, /^mydocker: --sysctl vm\.swappiness=1: sysctl "vm\.swappiness" is not namespaced/);
    const hostNet = md.run(['run', '--rm', '--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'true']);
    assert.equal(hostNet.status, 125);
    assert.match(hostNet.stderr, /not allowed in the host's network namespace/);
  });

  it('--group-add: numbers and the image\'s group names join the process\'s groups', () => {
    sameAsPodman(['--group-add', '1234', '--group-add', 'daemon', 'busybox', 'id', '-G'], '0 1 1234\n');
    const r = md.run(['run', '--rm', '--group-add', 'nosuchgroup', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /--group-add nosuchgroup: unable to find group nosuchgroup/);
  });

  it('--cpu-period/--cpu-quota, --memory-reservation, --oom-kill-disable, --oom-score-adj reach the kernel', () => {
    md.ok(['run', '-d', '--name', 'knobs', '--network', 'none', '--cpu-period', '50000', '--cpu-quota', '25000', '-m', '64m', '--memory-reservation', '10m', '--oom-kill-disable', '--oom-score-adj', '500', 'busybox', 'sleep', '300']);
    try {
      const id = md.ok(['inspect', '--format', '{{.Id}}', 'knobs']).trim();
      const pid = md.state('knobs').Pid;
      assert.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '500');
      const dirs = cgroupsOf([id]);
      const read = (file: string) => {
        for (const d of dirs) if (existsSync(join(d, file))) return readFileSync(join(d, file), 'utf8').trim();
        return undefined;
      };
      const cpuMax = read('cpu.max');
      if (cpuMax !== undefined) assert.equal(cpuMax, '25000 50000');
      else {
        assert.equal(read('cpu.cfs_quota_us'), '25000');
        assert.equal(read('cpu.cfs_period_us'), '50000');
      }
      assert.equal(read('memory.low') ?? read('memory.soft_limit_in_bytes'), String(10 * 1024 * 1024));
      const oom = read('memory.oom_control');
      if (oom !== undefined) assert.match(oom, /^oom_kill_disable 1$/m);
      const hc = JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig}}', 'knobs']));
      assert.equal(hc.CpuPeriod, 50000);
      assert.equal(hc.CpuQuota, 25000);
      assert.equal(hc.MemoryReservation, 10 * 1024 * 1024);
      assert.equal(hc.OomKillDisable, true);
    } finally {
      md.ok(['rm', '-f', 'knobs']);
    }
    const r = md.run(['run', '--rm', '--cpus', '1', '--cpu-quota', '20000', 'busybox', 'true']);
    assert.equal(r.stderr, 'mydocker: Conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set\n');
    assert.match(md.run(['run', '--rm', '-m', '16m', '--memory-reservation', '32m', 'busybox', 'true']).stderr, /--memory-reservation 32m: must be below --memory 16m/);
  });
});

describe('mydocker run --network/--pid container:NAME', () => {
  /** A web container, then a second one in its network and PID namespace; what the second sees. */
  const SEES = ['sh', '-c', 'echo $(wget -qO- http://127.0.0.1:8080/hostname); hostname; ip -4 -o addr show | grep -c eth0; ps -o comm | grep -c httpd'];

  it("joins the running container's network (its address, name and /etc files) and PID namespace; refuses a stopped or missing one and docker's conflicts", withMydocker((md) => {
    if (havePodman()) {
      const podman = new Podman();
      try {
        const web = podman.run(['run', '-d', ...Podman.RUN_DEFAULTS, '--name', 'web', 'busybox', 'sh', '-c', 'httpd -f -p 8080 -h /etc']);
        assert.equal(web.status, 0, web.stderr);
        const r = podman.run(['run', '--rm', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000', '--network', 'container:web', '--pid', 'container:web', 'busybox', ...SEES]);
        assert.equal(r.status, 0, `podman (control): ${r.stderr}`);
        const [served, , ifaces, httpd] = r.stdout.trim().split('\n');
        // (podman gives the joiner its own hostname; docker gives it the target's, as we do.)
        assert.match(served!, /^[0-9a-f]{12}$/, 'podman (control): the target\'s server on 127.0.0.1');
        assert.equal(ifaces, '0', 'podman (control): --network none target: no eth0');
        assert.equal(httpd, '1', 'podman (control): sees the target\'s processes');
      } finally {
        podman.cleanup();
      }
    }
    md.ok(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'httpd -f -p 8080 -h /etc']);
    const webIp = md.ok(['inspect', '--format', '{{.NetworkSettings.Networks.bridge.IPAddress}}', 'web']).trim();
    const out = md.ok(['run', '--rm', '--network', 'container:web', '--pid', 'container:web', 'busybox', ...SEES]).trim().split('\n');
    const webName = md.ok(['inspect', '--format', '{{.Config.Hostname}}', 'web']).trim();
    assert.deepEqual(out, [webName, webName, '1', '1'], 'its server on 127.0.0.1, its hostname, its eth0, its processes');
    assert.equal(md.ok(['run', '--rm', '--network', 'container:web', 'busybox', 'sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1"]).trim(), webIp);
    md.ok(['create', '--name', 'side', '--network', 'container:web', 'busybox', 'true']);
    const hc = JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig}}', 'side']));
    assert.match(hc.NetworkMode, /^container:[0-9a-f]{64}$/, 'kept by id');
    md.ok(['rm', 'side']);
    for (const [args, says] of [
      [['--network', 'container:web', '-p', '80'], /^mydocker: Conflicting options: --publish and the network mode/],
      [['--network', 'container:web', '-h', 'x'], /^mydocker: Conflicting options: --hostname and the network mode/],
      [['--network', 'container:web', '--dns', '1.1.1.1'], /^mydocker: Conflicting options: --dns and the network mode/],
      [['--network', 'container:nosuch'], /^mydocker: --network container:nosuch: No such container: nosuch\n$/],
    ] as const) {
      const r = md.run(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr, says);
    }
    md.ok(['stop', '-t', '0', 'web']);
    const stopped = md.run(['run', '--rm', '--network', 'container:web', 'busybox', 'true']);
    assert.equal(stopped.status, 125);
    assert.match(stopped.stderr, /cannot join the network of a non running container: web/);
    md.ok(['rm', 'web']);
  }));
});

describe('mydocker run --log-driver/--log-opt, --platform', () => {
  it('none keeps no log (the foreground still sees the output); max-size bounds the log; unknown drivers and options are named', withMydocker(async (md) => {
    assert.equal(md.ok(['run', '--rm', '--network', 'none', '--log-driver', 'none', 'busybox', 'echo', 'hi']), 'hi\n');
    md.ok(['run', '-d', '--name', 'nolog', '--network', 'none', '--log-driver', 'none', 'busybox', 'echo', 'hi']);
    assert.equal(md.ok(['wait', 'nolog']).trim(), '0');
    const r = md.run(['logs', 'nolog']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /configured logging driver does not support reading/);
    assert.equal(JSON.parse(md.ok(['inspect', '--format', '{{json .HostConfig.LogConfig}}', 'nolog'])).Type, 'none');
    md.ok(['run', '-d', '--name', 'small', '--network', 'none', '--log-opt', 'max-size=4k', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done']);
    assert.equal(md.ok(['wait', 'small']).trim(), '0');
    const log = md.ok(['inspect', '--format', '{{.LogPath}}', 'small']).trim();
    const { statSync } = await import('node:fs');
    assert.ok(statSync(log).size <= 4096 + 200, `the log stays near max-size (${statSync(log).size} bytes)`);
    assert.match(md.ok(['logs', '--tail', '1', 'small']), /^line 1999\n$/, 'the latest lines are kept');
    md.ok(['rm', 'nolog', 'small']);
    for (const [args, says] of [
      [['--log-driver', 'syslog'], /^mydocker: --log-driver syslog: not available/],
      [['--log-opt', 'max-file=3'], /^mydocker: --log-opt max-file=3: mydocker keeps one log file/],
      [['--log-opt', 'compress=true'], /^mydocker: --log-opt compress=true: unknown log option/],
      [['--platform', 'linux/s390x'], /^mydocker: --platform linux\/s390x: this host runs linux\/\w+ only/],
      [['--platform', 'linux'], /^mydocker: --platform linux: want os\/arch/],
    ] as const) {
      const bad = md.run(['run', '--rm', '--network', 'none', ...args, 'busybox', 'true']);
      assert.equal(bad.status, 125, bad.stderr);
      assert.match(bad.stderr, says);
    }
    const host = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;
    assert.equal(md.ok(['run', '--rm', '--network', 'none', '--platform', host, 'busybox', 'echo', 'ok']), 'ok\n');
  }));
});

describe('mydocker volume create -o (the local driver\'s options)', () => {
  it('a tmpfs volume and a bind volume are mounted while used and unmounted after the last user; the bind\'s host data survives the volume', withMydocker((md) => {
    const host = join(md.dir, 'host-data');
    mkdirSync(host);
    writeFileSync(join(host, 'keep'), 'precious\n');
    if (havePodman()) {
      const podman = new Podman();
      try {
        // (podman 4.3 reads o=size= as a quota of its own: the control uses another option.)
        assert.equal(podman.run(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=nodev', 'tv']).status, 0);
        const r = podman.run(['run', '--rm', ...Podman.RUN_DEFAULTS, '-v', 'tv:/t', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts | cut -d" " -f3']);
        assert.equal(r.stdout, 'tmpfs\n', `podman (control): ${r.stderr}`);
      } finally {
        podman.cleanup();
      }
    }
    md.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'tv']);
    md.ok(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${host}`, 'bv']);
    assert.deepEqual(JSON.parse(md.ok(['volume', 'inspect', '--format', '{{json .Options}}', 'tv'])), { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    const mounted = () => mountsUnder(join(md.root, 'volumes')).length;
    assert.equal(mounted(), 0, 'nothing mounted before a user');
    md.ok(['run', '-d', '--name', 'v1', '--network', 'none', '-v', 'tv:/t', '-v', 'bv:/b', 'busybox', 'sleep', '300']);
    assert.equal(mounted(), 2);
    const out = md.ok(['run', '--rm', '--network', 'none', '-v', 'tv:/t', '-v', 'bv:/b', 'busybox', 'sh', '-c', 'echo hi > /t/x; cat /b/keep; echo new > /b/new; grep " /t " /proc/mounts | cut -d" " -f3; df -k /t | tail -1 | awk \'{print $2}\'']);
    assert.equal(out, 'precious\ntmpfs\n1024\n');
    assert.equal(mounted(), 2, 'still used by v1');
    assert.equal(md.ok(['exec', 'v1', 'cat', '/t/x']), 'hi\n', 'one tmpfs shared by its users');
    md.ok(['stop', '-t', '0', 'v1']);
    assert.equal(mounted(), 0, 'the last user stopped: unmounted');
    md.ok(['rm', 'v1']);
    assert.equal(readFileSync(join(host, 'new'), 'utf8'), 'new\n');
    md.ok(['volume', 'rm', 'tv', 'bv']);
    assert.deepEqual(readdirSync(host).sort(), ['keep', 'new'], 'the host directory keeps its data');
    for (const [opts, says] of [
      [['-o', 'type=none', '-o', 'o=bind', '-o', `device=${join(md.dir, 'nope')}`], /no such directory on the host/],
      [['-o', 'type=tmpfs'], /needs device=/],
      [['-o', 'color=red'], /invalid option key "color"/],
      [['-d', 'nfs-driver'], /only the local driver/],
    ] as const) {
      const r = md.run(['volume', 'create', ...opts, 'badvol']);
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr, says);
    }
    assert.equal(md.ok(['volume', 'ls', '-q']), '', 'nothing made by the refused ones');
  }));
});

describe('mydocker run -a', () => {
  it('shows only the streams attached (the log keeps both); bad streams and -d are refused', withMydocker((md) => {
    const script = ['sh', '-c', 'echo out; echo err >&2'];
    if (havePodman()) {
      const podman = new Podman();
      try {
        const p = podman.run(['run', '--rm', ...Podman.RUN_DEFAULTS, '-a', 'stderr', 'busybox', ...script]);
        assert.deepEqual([p.status, p.stdout, p.stderr], [0, '', 'err\n'], 'podman (control)');
      } finally {
        podman.cleanup();
      }
    }
    const r = md.run(['run', '--name', 'att', '--network', 'none', '-a', 'stderr', 'busybox', ...script]);
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', 'err\n']);
    assert.equal(md.ok(['logs', 'att']), 'out\n', 'the log has stdout too');
    md.ok(['rm', 'att']);
    assert.equal(md.ok(['run', '--rm', '--network', 'none', '-a', 'stdout', 'busybox', ...script]), 'out\n');
    assert.equal(md.ok(['run', '--rm', '-i', '-a', 'stdin', '-a', 'stdout', '--network', 'none', 'busybox', 'cat'], { input: 'piped\n' }), 'piped\n');
    assert.match(md.run(['run', '--rm', '-a', 'foo', 'busybox', 'true']).stderr, /^mydocker: invalid argument "foo" for "-a, --attach" flag/);
    assert.match(md.run(['run', '-d', '-a', 'stdout', 'busybox', 'true']).stderr, /^mydocker: Conflicting options: -a and -d/);
    assert.deepEqual(md.ids(), [], 'nothing made by the refused ones');
  }));
});

describe('mydocker run --init', () => {
  it('an init is PID 1: the command gets stop\'s SIGTERM (exit 143, no SIGKILL after the timeout), and exit codes pass through', withMydocker((md) => {
    if (havePodman()) {
      const podman = new Podman();
      try {
        const id = podman.run(['run', '-d', ...Podman.RUN_DEFAULTS, '--init', '--init-path', '/usr/bin/tini-static', 'busybox', 'sleep', '300']).stdout.trim();
        assert.equal(podman.run(['stop', '-t', '60', id]).status, 0);
        assert.equal(podman.run(['inspect', '--format', '{{.State.ExitCode}}', id]).stdout.trim(), '143', 'podman (control)');
      } finally {
        podman.cleanup();
      }
    }
    assert.equal(md.ok(['run', '--rm', '--network', 'none', '--init', 'busybox', 'cat', '/proc/1/comm']), 'docker-init\n');
    md.ok(['run', '-d', '--name', 'i1', '--network', 'none', '--init', 'busybox', 'sleep', '300']);
    md.ok(['stop', '-t', '60', 'i1']);
    assert.equal(md.state('i1').ExitCode, 143, 'SIGTERM reached sleep through the init');
    md.ok(['rm', 'i1']);
    assert.equal(md.run(['run', '--rm', '--network', 'none', '--init', 'busybox', 'sh', '-c', 'exit 5']).status, 5);
    assert.equal(md.run(['run', '--rm', '--network', 'none', '--init', 'busybox', 'nosuchcommand']).status, 127);
  }));
});

describe('mydocker run: --volumes-from, --cidfile, --pull, --label-file', () => {
  it('--volumes-from shares the volumes and binds (not copies), :ro makes them read-only; rm -v of the first keeps a volume still used', withMydocker((md) => {
    const host = join(md.dir, 'shared');
    mkdirSync(host);
    md.ok(['create', '--name', 'store', '--network', 'none', '-v', '/data', '-v', `${host}:/host`, 'busybox', 'true']);
    md.ok(['run', '--rm', '--network', 'none', '--volumes-from', 'store', 'busybox', 'sh', '-c', 'echo one > /data/a; echo two > /host/b']);
    assert.equal(readFileSync(join(host, 'b'), 'utf8'), 'two\n');
    const r = md.run(['run', '--rm', '--network', 'none', '--volumes-from', 'store:ro', 'busybox', 'sh', '-c', 'cat /data/a; touch /data/x 2>/dev/null || echo refused']);
    assert.equal(r.stdout, 'one\nrefused\n', r.stderr);
    md.ok(['create', '--name', 'user', '--network', 'none', '--volumes-from', 'store', 'busybox', 'cat', '/data/a']);
    const vol = JSON.parse(md.ok(['inspect', '--format', '{{json .Mounts}}', 'store'])).find((m: { Destination: string }) => m.Destination === '/data').Name;
    md.ok(['rm', '-v', 'store']);
    assert.match(md.ok(['volume', 'ls', '-q']), new RegExp(`^${vol}$`, 'm'), 'still used by "user": kept');
    md.ok(['start', 'user']);
    assert.equal(md.ok(['wait', 'user']).trim(), '0');
    assert.equal(md.ok(['logs', 'user']), 'one\n');
    md.ok(['rm', 'user']);
    md.ok(['volume', 'rm', vol]);
    assert.match(md.run(['run', '--rm', '--volumes-from', 'nosuch', 'busybox', 'true']).stderr, /No such container: nosuch/);
  }));

  it('--cidfile gets the id; an existing file is refused before anything is made', withMydocker((md) => {
    const cid = join(md.dir, 'cid');
    const id = md.ok(['run', '-d', '--network', 'none', '--cidfile', cid, 'busybox', 'true']).trim();
    assert.equal(readFileSync(cid, 'utf8'), id);
    const again = md.run(['run', '-d', '--cidfile', cid, 'busybox', 'true']);
    assert.equal(again.status, 125);
    assert.match(again.stderr, /--cidfile \S+: Container ID file found/);
    assert.deepEqual(md.ids(), [id], 'no second container');
    md.ok(['rm', '-f', id]);
  }));

  it('--pull never runs what the store has and refuses what it lacks; a bad policy is named', withMydocker((md) => {
    assert.equal(md.ok(['run', '--rm', '--network', 'none', '--pull', 'never', 'busybox', 'echo', 'ok']), 'ok\n');
    const r = md.run(['run', '--rm', '--pull', 'never', '127.0.0.1:1/nothing:1', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /No such image: 127\.0\.0\.1:1\/nothing:1/);
    assert.equal(md.run(['run', '--rm', '--pull', 'sometimes', 'busybox', 'true']).stderr, 'mydocker: --pull sometimes: invalid pull policy (always, missing or never)\n');
  }));

  it('--label-file and --label: the file first, flags win', withMydocker((md) => {
    const file = join(md.dir, 'labels');
    writeFileSync(file, '# team labels\na=1\nb=2\n\n');
    md.ok(['create', '--name', 'lab', '--network', 'none', '--label-file', file, '-l', 'b=3', 'busybox', 'true']);
    assert.deepEqual(JSON.parse(md.ok(['inspect', '--format', '{{json .Config.Labels}}', 'lab'])), { a: '1', b: '3' });
    md.ok(['rm', 'lab']);
    assert.match(md.run(['create', '--label-file', join(md.dir, 'none'), 'busybox', 'true']).stderr, /--label-file \S+: no such file/);
  }));
});
