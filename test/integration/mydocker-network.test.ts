// mydocker's networks on the real kernel: `network create/ls/inspect/rm/prune`, containers on
// the default bridge and on user networks (addresses, names through /etc/hosts), published
// ports reached every way a user reaches them (127.0.0.1, the bridge's gateway, a host address
// from another network namespace standing for an outside machine, and from containers through
// the host port — hairpin), TCP and UDP, and the host left as it was. podman (CNI backend, its
// own root, config dir and network namespace) is the control for what users read: ps PORTS,
// inspect's ports, a taken port failing.
//
// Every test runs in its own data root (withMydocker), whose cleanup fails the test if any of
// its containers left a veth on its bridges, a firewall rule for its subnets, an address, a
// host port, a record or a mount — and deletes its bridges. Explicit subnets and ports are
// this process's own (other developers test on this host at the same time).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { haveSocat, Netns, run } from '../helpers/cni.js';
import { firewallLinesIn, havePodman, inSubnet, type MydockerSandbox, networkLeaks, Podman, rootNetworks, waitFor, withMydocker } from '../helpers/mydocker.js';

const skipSocat = !haveSocat() && 'no socat';
/** 10.X.k.0/24: X is this process's (k picks one of its subnets). */
const X = 150 + (process.pid % 100);
const subnet = (k: number) => `10.${X}.${k}.0/24`;
const tag = `mdk${(process.pid % 46656).toString(36)}`;

/** A TCP port nothing listens on right now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Can a host process listen on the TCP port (on every address)? */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** busybox httpd on :80 serving `body`. */
const httpd = (body: string) => ['sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && exec httpd -f -p 80 -h /www`];

/** GET /index.html through busybox nc from the host (or from the netns at `ns`): the body's last line, '' when nothing answered. */
function get(addr: string, port: number, ns?: Netns): string {
  const input = 'GET /index.html HTTP/1.0\r\n\r\n';
  const r = ns ? ns.exec('busybox', ['nc', '-w', '3', addr, String(port)], { input }) : run('busybox', ['nc', '-w', '3', addr, String(port)], { input });
  return r.status === 0 ? (r.stdout.trim().split('\n').pop() ?? '').trim() : '';
}

/** The same from inside container `ctr`. */
function getFrom(md: MydockerSandbox, ctr: string, addr: string, port: number): string {
  const r = md.run(['exec', ctr, 'sh', '-c', `printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${addr} ${port}`]);
  return r.status === 0 ? (r.stdout.trim().split('\n').pop() ?? '').trim() : '';
}

/** One UDP datagram through socat (from `ns` when given): the answer, '' when none. */
function udpAsk(addr: string, port: number, ns?: Netns): string {
  const args = ['-T', '3', '-', `UDP4:${addr}:${port}`];
  const r = ns ? ns.exec('socat', args, { input: 'ping\n' }) : run('socat', args, { input: 'ping\n' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/** A UDP echo ("udp-<line>") inside a container's network namespace (busybox has no UDP server). */
function udpEcho(pid: number, port: number): ChildProcess {
  return spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'socat', `UDP4-RECVFROM:${port},fork,reuseaddr`, 'SYSTEM:read l; echo udp-$l'], { stdio: 'ignore' });
}

interface Settings {
  IPAddress: string;
  Gateway: string;
  MacAddress: string;
  IPPrefixLen: number;
  Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  Networks: Record<string, { IPAddress: string; Gateway: string; MacAddress: string; IPPrefixLen: number; NetworkID: string; Aliases: string[] | null }>;
}
const settings = (md: MydockerSandbox, ctr: string): Settings => JSON.parse(md.ok(['inspect', '-f', '{{json .NetworkSettings}}', ctr]));
const ipOn = (md: MydockerSandbox, ctr: string, net: string) => settings(md, ctr).Networks[net]!.IPAddress;

interface NetInspect {
  Name: string;
  Id: string;
  Driver: string;
  IPAM: { Config: Array<{ Subnet: string; Gateway: string; IPRange?: string }> };
  Containers: Record<string, { Name: string; IPv4Address: string; MacAddress: string }>;
  Options: Record<string, string>;
}
const netInspect = (md: MydockerSandbox, name: string): NetInspect => JSON.parse(md.ok(['network', 'inspect', name]))[0];

/** The IPv4 addresses of a link, "a.b.c.d/n". */
function linkAddrs(name: string): string[] {
  const r = spawnSync('ip', ['-j', '-4', 'addr', 'show', 'dev', name], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return (JSON.parse(r.stdout) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>).flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}
const linkExists = (name: string) => spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;

/** Host routes other than the default one, "dst/len dev". */
function hostRoutes(): Array<{ dst: string; dev: string }> {
  const r = spawnSync('ip', ['-j', '-4', 'route', 'show', 'table', 'main'], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as Array<{ dst: string; dev: string }>).filter((x) => x.dst !== 'default').map((x) => ({ dst: x.dst.includes('/') ? x.dst : `${x.dst}/32`, dev: x.dev }));
}
const overlap = (a: string, b: string) => inSubnet(a.split('/')[0]!, b) || inSubnet(b.split('/')[0]!, a);

describe('mydocker network: create, ls, inspect, rm, prune', () => {
  it('the default bridge exists out of the box, with docker columns in ls, and host and none beside it', withMydocker((md) => {
    const ls = md.ok(['network', 'ls']).trimEnd().split('\n');
    assert.match(ls[0]!, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    const rows = ls.slice(1).map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((r) => r[1]), ['bridge', 'host', 'none'], 'sorted by name');
    assert.deepEqual(rows.map((r) => `${r[2]} ${r[3]}`), ['bridge local', 'host local', 'null local']);
    for (const r of rows) assert.match(r[0]!, /^[0-9a-f]{12}$/);
    assert.deepEqual(md.ok(['network', 'ls', '-q']).trim().split('\n'), rows.map((r) => r[0]));
    assert.equal(md.ok(['network', 'ls', '--format', '{{.Name}}:{{.Driver}}', '--filter', 'driver=bridge']).trim(), 'bridge:bridge');
    const b = netInspect(md, 'bridge');
    assert.equal(b.Driver, 'bridge');
    assert.equal(b.Id.slice(0, 12), rows[0]![0]);
    const { Subnet, Gateway } = b.IPAM.Config[0]!;
    // docker's pool: 172.17.0.0/16 unless the host (or another data root) has it.
    assert.match(Subnet, /^(172\.(1[7-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/);
    const bridge = b.Options['com.docker.network.bridge.name']!;
    assert.match(bridge, /^br-[0-9a-f]{12}$/, 'a bridge name the leak checks see, unique per network');
    assert.ok(linkAddrs(bridge).includes(`${Gateway}/${Subnet.split('/')[1]}`), 'the bridge carries the gateway');
    for (const r of hostRoutes()) if (r.dev !== bridge) assert.ok(!overlap(r.dst, Subnet), `${Subnet} overlaps the host's ${r.dst} on ${r.dev}`);
    // Out of the box means once: the same network after another look.
    assert.equal(netInspect(md, 'bridge').Id, b.Id);
    assert.equal(JSON.parse(md.ok(['inspect', '--type', 'network', 'none']))[0].Driver, 'null');
  }));

  it("the book's create: --subnet 10.X.1.1/24 is the subnet 10.X.1.0/24 whose gateway is .1", withMydocker((md) => {
    const id = md.ok(['network', 'create', '--driver', 'bridge', '--subnet', `10.${X}.1.1/24`, 'testbridge']).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const n = netInspect(md, 'testbridge');
    assert.deepEqual(n.IPAM.Config, [{ Subnet: `10.${X}.1.0/24`, Gateway: `10.${X}.1.1` }]);
    assert.equal(n.Id, id);
    assert.deepEqual(linkAddrs(n.Options['com.docker.network.bridge.name']!), [`10.${X}.1.1/24`]);
    assert.equal(md.ok(['run', '--rm', '--network', 'testbridge', 'busybox', 'sh', '-c', "ip -4 -o addr show eth0 | awk '{print $4}'"]).trim(), `10.${X}.1.2/24`);
    // By id prefix too, as docker resolves networks.
    assert.equal(netInspect(md, id.slice(0, 10)).Name, 'testbridge');
  }));

  it('bad input: exit 125, one line naming the flag, nothing made', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(2), 'n1']);
    const before = md.ok(['network', 'ls', '-q']);
    const bridgesBefore = rootNetworks(md.root).map((n) => n.bridge);
    const cases: Array<[string[], RegExp]> = [
      [['--subnet', `10.${X}.2.128/25`, 'n2'], /overlaps .*n1/],
      [['n1'], /network with name n1 already exists/],
      [['bridge'], /network with name bridge already exists/],
      [['-d', 'macvlan', 'n3'], /macvlan/],
      [['--subnet', subnet(3), '--gateway', `10.${X}.4.1`, 'n3'], /--gateway .*not in the subnet/],
      [['--subnet', subnet(3), '--gateway', `10.${X}.3.255`, 'n3'], /--gateway .*broadcast/],
      [['--subnet', 'banana', 'n3'], /--subnet/],
      [['--subnet', subnet(3), '--ip-range', `10.${X}.9.0/28`, 'n3'], /--ip-range .*not inside/],
      [['--gateway', `10.${X}.3.1`, 'n3'], /--gateway: needs --subnet/],
      [['--subnet', subnet(3), '-o', 'com.docker.network.bridge.name=evil', 'n3'], /-o com\.docker\.network\.bridge\.name/],
      [['bad/name'], /network name/],
    ];
    for (const [args, err] of cases) {
      const r = md.run(['network', 'create', ...args]);
      assert.equal(r.status, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, err, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal(md.ok(['network', 'ls', '-q']), before);
    assert.deepEqual(rootNetworks(md.root).map((n) => n.bridge), bridgesBefore);
  }));

  it('subnets from the pool never overlap each other, the default one, or the host', withMydocker((md) => {
    md.ok(['network', 'create', 'p1']);
    md.ok(['network', 'create', 'p2']);
    const subnets = ['bridge', 'p1', 'p2'].map((n) => netInspect(md, n).IPAM.Config[0]!.Subnet);
    for (let i = 0; i < subnets.length; i++) for (let j = 0; j < i; j++) assert.ok(!overlap(subnets[i]!, subnets[j]!), `${subnets[i]} / ${subnets[j]}`);
    const ours = new Set(rootNetworks(md.root).map((n) => n.bridge));
    for (const r of hostRoutes()) if (!ours.has(r.dev)) for (const s of subnets) assert.ok(!overlap(r.dst, s), `${s} overlaps ${r.dst} on ${r.dev}`);
    // An explicit subnet the host already routes is refused by name.
    const route = hostRoutes().find((r) => !ours.has(r.dev) && Number(r.dst.split('/')[1]) >= 8);
    if (route) {
      const r = md.run(['network', 'create', '--subnet', route.dst, 'clash']);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /overlaps the host's network/);
    }
  }));

  it("rm is refused while a container is attached (docker's message); afterwards the bridge and config go", withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(5), 'busy']);
    const bridge = netInspect(md, 'busy').Options['com.docker.network.bridge.name']!;
    md.ok(['run', '-d', '--name', 'att', '--network', 'busy', 'busybox', 'sleep', '60']);
    const r = md.run(['network', 'rm', 'busy']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /error while removing network: network busy id [0-9a-f]{64} has active endpoints \(att\)/);
    assert.ok(linkExists(bridge));
    md.ok(['rm', '-f', 'att']);
    assert.equal(md.ok(['network', 'rm', 'busy']), 'busy\n');
    assert.ok(!linkExists(bridge), 'its bridge is gone');
    assert.equal(md.run(['network', 'inspect', 'busy']).status, 125);
    assert.deepEqual(firewallLinesIn([subnet(5)]), []);
    for (const n of ['bridge', 'host', 'none']) {
      const p = md.run(['network', 'rm', n]);
      assert.equal(p.status, 125);
      assert.match(p.stderr, new RegExp(`${n} is a pre-defined network and cannot be removed`));
    }
    const missing = md.run(['network', 'rm', 'nosuchnet']);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /No such network: nosuchnet/);
    assert.equal(md.run(['network', 'rm', '-f', 'nosuchnet']).status, 0);
  }));

  it('a stopped container keeps a removed network in its config: its start says the network is gone', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(6), 'gone']);
    md.ok(['create', '--name', 'later', '--network', 'gone', 'busybox', 'true']);
    md.ok(['network', 'rm', 'gone']);
    const r = md.run(['start', 'later']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /network gone not found/);
  }));

  it('prune removes the networks no container is attached to, and only those', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(7), 'used']);
    md.ok(['network', 'create', '--subnet', subnet(8), 'unused']);
    md.ok(['run', '-d', '--name', 'u1', '--network', 'used', 'busybox', 'sleep', '60']);
    assert.equal(md.ok(['network', 'prune', '-f']), 'Deleted Networks:\nunused\n');
    assert.deepEqual(md.ok(['network', 'ls', '--format', '{{.Name}}']).trim().split('\n'), ['bridge', 'host', 'none', 'used']);
    assert.equal(md.ok(['network', 'prune', '-f']), '');
  }));
});

describe('mydocker network: containers reach each other and the host reaches them', () => {
  it('two containers on a user network: by address, by name and by alias; the host reaches both', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(10), 'app']);
    md.ok(['run', '-d', '--name', 'web1', '--network', 'app', '--network-alias', 'www', 'busybox', ...httpd('one')]);
    md.ok(['run', '-d', '--name', 'cli1', '--network', 'app', 'busybox', 'sleep', '300']);
    const ip1 = ipOn(md, 'web1', 'app');
    const ip2 = ipOn(md, 'cli1', 'app');
    assert.ok(inSubnet(ip1, subnet(10)) && inSubnet(ip2, subnet(10)) && ip1 !== ip2);
    for (const target of [ip1, 'web1', 'www']) assert.equal(getFrom(md, 'cli1', target, 80), 'one', `cli1 -> ${target}`);
    assert.equal(md.run(['exec', 'web1', 'ping', '-c', '1', '-W', '3', 'cli1']).status, 0, 'and the other way');
    assert.equal(md.run(['exec', 'web1', 'ping', '-c', '1', '-W', '3', ip2]).status, 0);
    assert.equal(get(ip1, 80), 'one', 'the host reaches the container by its address');
    assert.equal(run('busybox', ['ping', '-c', '1', '-W', '3', ip2]).status, 0);
    // The default route goes through the gateway (masqueraded): the gateway answers from inside.
    assert.equal(md.run(['exec', 'cli1', 'ping', '-c', '1', '-W', '3', `10.${X}.10.1`]).status, 0);
    assert.match(md.ok(['exec', 'cli1', 'ip', 'route']), new RegExp(`default via 10\\.${X}\\.10\\.1 dev eth0`));
    const n = netInspect(md, 'app');
    assert.deepEqual(Object.values(n.Containers).map((c) => `${c.Name} ${c.IPv4Address}`).sort(), [`cli1 ${ip2}/24`, `web1 ${ip1}/24`].sort());
  }));

  it('the default bridge: containers reach each other by address, not by name (docker\'s rule)', withMydocker((md) => {
    md.ok(['run', '-d', '--name', 'd1', 'busybox', 'sleep', '300']);
    md.ok(['run', '-d', '--name', 'd2', 'busybox', 'sleep', '300']);
    const s = settings(md, 'd1');
    assert.equal(s.IPAddress, s.Networks.bridge!.IPAddress, 'docker fills the top-level fields from the default bridge');
    assert.equal(md.run(['exec', 'd2', 'ping', '-c', '1', '-W', '3', s.IPAddress]).status, 0);
    const byName = md.run(['exec', 'd2', 'ping', '-c', '1', '-W', '1', 'd1']);
    assert.notEqual(byName.status, 0);
    assert.match(byName.stderr, /bad address/);
  }));

  it('a container killed with -9: its network goes with it (veth, rules, address), the record stays', withMydocker(async (md) => {
    const hp = await freePort();
    md.ok(['run', '-d', '--name', 'k9', '-p', `${hp}:80`, 'busybox', ...httpd('k')]);
    await waitFor(() => get('127.0.0.1', hp) === 'k', 10_000, 'httpd');
    process.kill(md.state('k9').Pid, 'SIGKILL');
    await waitFor(() => md.state('k9').Status === 'exited' && networkLeaks(md.root).length === 0, 15_000, 'the monitor to clean up');
    assert.equal(md.state('k9').ExitCode, 137);
    assert.equal(get('127.0.0.1', hp), '', 'nothing answers on its port');
    // Started again, it gets its network back.
    md.ok(['start', 'k9']);
    await waitFor(() => get('127.0.0.1', hp) === 'k', 10_000, 'httpd again');
  }));
});

describe('mydocker network: published ports', () => {
  it('-p: TCP and UDP through 127.0.0.1, the gateway, a host address seen from another namespace, and from containers (hairpin)', { skip: skipSocat }, withMydocker(async (md) => {
    const hp = await freePort();
    const hpu = await freePort();
    md.ok(['run', '-d', '--name', 'pub', '-p', `${hp}:80`, '-p', `${hpu}:5353/udp`, 'busybox', ...httpd('published')]);
    md.ok(['run', '-d', '--name', 'nb', 'busybox', 'sleep', '300']);
    const s = settings(md, 'pub');
    const echo = udpEcho(md.state('pub').Pid, 5353);
    // An "outside machine": a namespace on a veth whose host end has an address of the host's.
    const outside = new Netns(`${tag}out`);
    const a = `${tag}a`;
    const hostSide = `198.18.${X}.1`;
    try {
      run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', outside.path]);
      run('ip', ['addr', 'add', `${hostSide}/30`, 'dev', a]);
      run('ip', ['link', 'set', a, 'up']);
      outside.sh(`ip addr add 198.18.${X}.2/30 dev ${tag}b && ip link set ${tag}b up`);
      await waitFor(() => get('127.0.0.1', hp) === 'published', 10_000, 'httpd behind -p');
      assert.equal(get(s.Gateway, hp), 'published', 'through the bridge gateway');
      assert.equal(get(hostSide, hp, outside), 'published', 'from outside, through a host address');
      assert.equal(getFrom(md, 'nb', s.Gateway, hp), 'published', 'a neighbour through the host port');
      assert.equal(getFrom(md, 'pub', s.Gateway, hp), 'published', 'the container itself through its host port (hairpin)');
      await waitFor(() => udpAsk('127.0.0.1', hpu) === 'udp-ping', 10_000, 'the UDP echo');
      assert.equal(udpAsk(s.Gateway, hpu), 'udp-ping');
      assert.equal(udpAsk(hostSide, hpu, outside), 'udp-ping', 'UDP from outside');
      // The port is held while the container runs: no host process can take it.
      assert.equal(await canListen(hp), false);
    } finally {
      echo.kill('SIGKILL');
      outside.destroy();
      run('ip', ['link', 'del', a]);
    }
    md.ok(['rm', '-f', 'pub']);
    assert.equal(get('127.0.0.1', hp), '', 'gone with its container');
    assert.equal(await canListen(hp), true, 'the host port is free again');
  }));

  it('-p CTR and -P pick free host ports; ps, port and inspect show them as podman does', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'rnd', '-p', '80', '--expose', '8080', '--expose', '9000/udp', '-P', 'busybox', ...httpd('random')]);
    const s = settings(md, 'rnd');
    const hp = Number(s.Ports['80/tcp']![0]!.HostPort);
    const hp2 = Number(s.Ports['8080/tcp']![0]!.HostPort);
    const hpu = Number(s.Ports['9000/udp']![0]!.HostPort);
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
    for (const p of [hp, hp2, hpu]) assert.ok(p >= lo && p <= hi, `${p} from the ephemeral range`);
    assert.equal(s.Ports['80/tcp']![0]!.HostIp, '0.0.0.0');
    await waitFor(() => get('127.0.0.1', hp) === 'random', 10_000, 'httpd on the random port');
    const ports = md.ok(['ps', '--format', '{{.Ports}}', '--filter', 'name=rnd']).trim();
    assert.equal(ports, `0.0.0.0:${hp}->80/tcp, 0.0.0.0:${hp2}->8080/tcp, 0.0.0.0:${hpu}->9000/udp`);
    assert.equal(md.ok(['port', 'rnd']), `80/tcp -> 0.0.0.0:${hp}\n8080/tcp -> 0.0.0.0:${hp2}\n9000/udp -> 0.0.0.0:${hpu}\n`);
    assert.equal(md.ok(['port', 'rnd', '80']), `0.0.0.0:${hp}\n`);
    const none = md.run(['port', 'rnd', '81']);
    assert.equal(none.status, 125);
    assert.match(none.stderr, /No public port '81\/tcp' published for rnd/);
    md.ok(['stop', '-t', '0', 'rnd']);
    assert.equal(md.ok(['ps', '-a', '--format', '{{.Ports}}', '--filter', 'name=rnd']).trim(), '', 'a stopped container publishes nothing');
    assert.deepEqual(settings(md, 'rnd').Ports, {});
  }));

  it('podman control: ps PORTS and inspect Ports read the same for -p HOST:CTR and -p CTR', { skip: !havePodman() && 'no podman' }, withMydocker(async (md) => {
    const hp = await freePort();
    const ns = new Netns(`${tag}pod`);
    const podman = new Podman({ netns: ns.path });
    try {
      podman.addNetwork(`${tag}pn`, `${tag}pb`, `10.${X}.250.0/24`);
      const p = podman.run(['run', '-d', '--name', 'pp', '--network', `${tag}pn`, '-p', `${hp}:80`, '-p', '9090', ...Podman.RUN_DEFAULTS.slice(2), 'busybox', 'sleep', '60']);
      assert.equal(p.status, 0, `podman (control): ${p.stderr}`);
      const pPorts = podman.run(['ps', '--format', '{{.Ports}}']).stdout.trim();
      const pRandom = /0\.0\.0\.0:(\d+)->9090\/tcp/.exec(pPorts)![1];
      assert.equal(pPorts, `0.0.0.0:${hp}->80/tcp, 0.0.0.0:${pRandom}->9090/tcp`, 'podman (control)');
      const pInspect = JSON.parse(podman.run(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'pp']).stdout);
      // podman shows the taken port the same way, its own run refused with its own code (126; docker 125).
      const pTaken = podman.run(['run', '-d', '--name', 'pp2', '--network', `${tag}pn`, '-p', `${hp}:80`, ...Podman.RUN_DEFAULTS.slice(2), 'busybox', 'sleep', '60']);
      assert.notEqual(pTaken.status, 0, 'podman (control) refuses a taken port');
      assert.equal(podman.run(['ps', '-a', '--filter', 'name=pp2', '--format', '{{.Status}}']).stdout.trim(), 'Created', 'podman (control) keeps the container, created');

      md.ok(['run', '-d', '--name', 'mp', '-p', `${hp}:80`, '-p', '9090', 'busybox', 'sleep', '60']);
      const mPorts = md.ok(['ps', '--format', '{{.Ports}}']).trim();
      const mRandom = /0\.0\.0\.0:(\d+)->9090\/tcp/.exec(mPorts)![1];
      assert.equal(mPorts, pPorts.replace(`:${pRandom}->`, `:${mRandom}->`));
      const mInspect = settings(md, 'mp').Ports;
      assert.deepEqual(Object.keys(mInspect).sort(), Object.keys(pInspect).sort());
      assert.equal(mInspect['80/tcp']![0]!.HostPort, pInspect['80/tcp'][0].HostPort);
      assert.equal(mInspect['80/tcp']![0]!.HostIp, '0.0.0.0', "docker's HostIp (podman 4.3 leaves it empty)");
      const taken = md.run(['run', '-d', '--name', 'mp2', '-p', `${hp}:80`, 'busybox', 'sleep', '60']);
      assert.equal(taken.status, 125, "docker's code for a daemon-side failure");
      assert.equal(md.ok(['ps', '-a', '--filter', 'name=mp2', '--format', '{{.Status}}']).trim(), 'Created');
    } finally {
      podman.cleanup();
      ns.destroy();
    }
  }));

  it('a taken host port: 125 with a clear message, nothing attached, for a container and for a host process', withMydocker(async (md) => {
    const hp = await freePort();
    md.ok(['run', '-d', '--name', 'holder', '-p', `${hp}:80`, 'busybox', ...httpd('holder')]);
    const before = { ...statSnapshot(md) };
    const r = md.run(['run', '--rm', '--name', 'second', '-p', `${hp}:80`, 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${hp} failed: port is already allocated`));
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(md.ok(['ps', '-a', '--format', '{{.Names}}']).trim(), 'holder', '--rm: nothing of it is left');
    assert.deepEqual(statSnapshot(md), before, 'no address, veth or rule more than before');
    // A port a host process listens on.
    const hp2 = await freePort();
    const srv = createServer().listen(hp2, '0.0.0.0');
    await new Promise((res) => srv.once('listening', res));
    try {
      const h = md.run(['run', '-d', '--name', 'third', '-p', `${hp2}:80`, 'busybox', 'sleep', '60']);
      assert.equal(h.status, 125);
      assert.match(h.stderr, new RegExp(`listen tcp4 0\\.0\\.0\\.0:${hp2}: bind: address already in use`));
      assert.equal(md.state('third').Status, 'created', "docker's semantics: created, not started");
      assert.deepEqual(statSnapshot(md), before);
    } finally {
      srv.close();
    }
  }));
});

/** What a root holds on the host right now: allocations, veths on its bridges, its firewall lines. */
function statSnapshot(md: MydockerSandbox): { allocated: string[]; veths: string[]; rules: number } {
  const nets = rootNetworks(md.root);
  const allocated = nets.flatMap((n) => {
    try {
      return spawnSync('ls', [`${md.root}/run/networks/ipam/${n.name}`], { encoding: 'utf8' }).stdout.split('\n').filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    } catch {
      return [];
    }
  });
  const veths = nets.flatMap((n) => spawnSync('ls', [`/sys/class/net/${n.bridge}/brif`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean));
  return { allocated: allocated.sort(), veths: veths.sort(), rules: firewallLinesIn(nets.map((n) => n.subnet)).length };
}

describe('mydocker network: /etc/hosts, /etc/hostname, /etc/resolv.conf', () => {
  it("the container's own name and address, localhost, the host's resolvers without loopback ones", withMydocker((md) => {
    md.ok(['run', '-d', '--name', 'self', '-h', 'myhost', 'busybox', 'sleep', '60']);
    const ip = settings(md, 'self').IPAddress;
    const hosts = md.ok(['exec', 'self', 'cat', '/etc/hosts']);
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(hosts, /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
    assert.match(hosts, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tmyhost$`, 'm'));
    assert.equal(md.ok(['exec', 'self', 'cat', '/etc/hostname']), 'myhost\n');
    assert.equal(md.ok(['exec', 'self', 'hostname']), 'myhost\n');
    const host = readFileSync('/etc/resolv.conf', 'utf8');
    const want = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l)).join('\n').trim();
    const got = md.ok(['exec', 'self', 'cat', '/etc/resolv.conf']).trim();
    if (/^\s*nameserver\s/m.test(want)) assert.equal(got, want);
    else assert.match(got, /nameserver 8\.8\.8\.8\nnameserver 8\.8\.4\.4$/, "docker's fallback when only loopback resolvers are left");
  }));

  it('--add-host (host-gateway: the network\'s gateway, reachable) and --dns/--dns-search/--dns-option; kept when neighbours come', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(13), 'xh']);
    const gw = JSON.parse(md.ok(['network', 'inspect', 'xh']))[0].IPAM.Config[0].Gateway as string;
    md.ok(['run', '-d', '--name', 'ah', '--network', 'xh', '--add-host', 'db.example:10.9.9.9', '--add-host', 'host.docker.internal=host-gateway',
      '--dns', '10.9.9.53', '--dns-search', 'corp.example', '--dns-option', 'ndots:2', 'busybox', 'sleep', '120']);
    const ip = ipOn(md, 'ah', 'xh');
    const lines = md.ok(['exec', 'ah', 'cat', '/etc/hosts']).trimEnd().split('\n');
    assert.deepEqual(lines.slice(-3), ['10.9.9.9\tdb.example', `${gw}\thost.docker.internal`, `${ip}\t${lines.at(-1)!.split('\t')[1]}`], "docker's order: --add-host lines, then the container's own");
    assert.equal(md.ok(['exec', 'ah', 'cat', '/etc/resolv.conf']), 'nameserver 10.9.9.53\nsearch corp.example\noptions ndots:2\n');
    assert.equal(md.run(['exec', 'ah', 'ping', '-c1', '-W2', 'host.docker.internal']).status, 0, 'host-gateway reaches the host');
    const hc = JSON.parse(md.ok(['inspect', 'ah']))[0].HostConfig;
    assert.deepEqual([hc.ExtraHosts, hc.Dns, hc.DnsSearch, hc.DnsOptions], [['db.example:10.9.9.9', 'host.docker.internal:host-gateway'], ['10.9.9.53'], ['corp.example'], ['ndots:2']]);
    // A neighbour's arrival rewrites the file: the extra lines stay.
    md.ok(['run', '-d', '--name', 'nb', '--network', 'xh', 'busybox', 'sleep', '120']);
    const after = md.ok(['exec', 'ah', 'cat', '/etc/hosts']);
    assert.match(after, /\tnb [0-9a-f]{12}$/m);
    assert.match(after, /^10\.9\.9\.9\tdb\.example$/m);
    assert.match(after, new RegExp(`^${gw.replace(/\./g, '\\.')}\\thost\\.docker\\.internal$`, 'm'));
    assert.equal(JSON.parse(md.ok(['inspect', 'nb']))[0].HostConfig.ExtraHosts, null, 'none asked: null, as docker');
    // Without a network namespace of its own: after the host's file; none: refused for host-gateway.
    assert.equal(md.ok(['run', '--rm', '--network', 'host', '--add-host', 'hg:host-gateway', 'busybox', 'tail', '-n1', '/etc/hosts']), '127.0.0.1\thg\n');
    assert.equal(md.ok(['run', '--rm', '--network', 'none', '--add-host', 'x:10.1.1.1', 'busybox', 'tail', '-n1', '/etc/hosts']), '10.1.1.1\tx\n');
    for (const [args, re] of [
      [['--add-host', 'nocolon'], /^mydocker: invalid argument "nocolon" for "--add-host" flag: bad format for add-host/],
      [['--network', 'none', '--add-host', 'g:host-gateway'], /"--add-host" flag: host-gateway: a container with --network none has no way to the host/],
      [['--dns', 'banana'], /^mydocker: invalid argument "banana" for "--dns" flag: IP address is not correctly formatted: banana$/],
      [['--dns-search', '-x'], /"--dns-search" flag: -x is not a valid domain/],
      [['--dns-option', 'a b'], /"--dns-option" flag: not a resolver option/],
    ] as [string[], RegExp][]) {
      const r = md.run(['run', '--rm', '--name', 'refused', ...args, 'busybox', 'true']);
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr.trim(), re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    assert.doesNotMatch(md.ok(['ps', '-a', '--format', '{{.Names}}']), /refused/, 'nothing made by a refused run');
  }));

  it('neighbours on a user network appear in /etc/hosts as they start and go as they leave, in place', withMydocker(async (md) => {
    md.ok(['network', 'create', '--subnet', subnet(12), 'hn']);
    md.ok(['run', '-d', '--name', 'first', '--network', 'hn', 'busybox', 'sleep', '300']);
    const hostsPath = JSON.parse(md.ok(['inspect', 'first']))[0].HostsPath as string;
    const ino = statSync(hostsPath).ino;
    assert.doesNotMatch(md.ok(['exec', 'first', 'cat', '/etc/hosts']), /second/);
    md.ok(['run', '-d', '--name', 'second', '--network', 'hn', '--network-alias', 'two', 'busybox', 'sleep', '300']);
    const ip2 = ipOn(md, 'second', 'hn');
    const seen = md.ok(['exec', 'first', 'cat', '/etc/hosts']);
    assert.match(seen, new RegExp(`^${ip2.replace(/\./g, '\\.')}\\tsecond [0-9a-f]{12} two$`, 'm'), 'the running container sees its new neighbour');
    assert.match(md.ok(['exec', 'second', 'cat', '/etc/hosts']), /\tfirst [0-9a-f]{12}$/m, 'and the newcomer its elder');
    assert.equal(statSync(hostsPath).ino, ino, 'rewritten in place (the bind mount pins the inode)');
    md.ok(['stop', '-t', '0', 'second']);
    assert.doesNotMatch(md.ok(['exec', 'first', 'cat', '/etc/hosts']), /second/, 'a stopped neighbour is forgotten');
    md.ok(['start', 'second']);
    assert.match(md.ok(['exec', 'first', 'cat', '/etc/hosts']), /\tsecond /);
    md.ok(['rename', 'second', 'deuxieme']);
    assert.match(md.ok(['exec', 'first', 'cat', '/etc/hosts']), /\tdeuxieme /, 'renamed: known by its new name');
    assert.doesNotMatch(md.ok(['exec', 'first', 'cat', '/etc/hosts']), /second/);
    md.ok(['rm', '-f', 'deuxieme']);
    assert.doesNotMatch(md.ok(['exec', 'first', 'cat', '/etc/hosts']), /deuxieme/, 'a removed one is forgotten too');
    // The default bridge shares no names.
    md.ok(['run', '-d', '--name', 'b1', 'busybox', 'sleep', '60']);
    md.ok(['run', '-d', '--name', 'b2', 'busybox', 'sleep', '60']);
    // (b2 as a name: a container id, hex, may well contain "b2")
    assert.doesNotMatch(md.ok(['exec', 'b1', 'cat', '/etc/hosts']), /\sb2(\s|$)/m);
  }));
});

describe('mydocker network: fixed addresses, connect and disconnect', () => {
  it('--ip on a user network; refused on the default bridge, outside the subnet, and when taken', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(14), '--ip-range', `10.${X}.14.128/25`, 'fixed']);
    md.ok(['run', '-d', '--name', 'f1', '--network', 'fixed', '--ip', `10.${X}.14.200`, 'busybox', 'sleep', '60']);
    assert.equal(ipOn(md, 'f1', 'fixed'), `10.${X}.14.200`);
    md.ok(['run', '-d', '--name', 'f2', '--network', 'fixed', 'busybox', 'sleep', '60']);
    assert.ok(inSubnet(ipOn(md, 'f2', 'fixed'), `10.${X}.14.128/25`), 'others come from --ip-range');
    const cases: Array<[string[], RegExp]> = [
      [['--ip', '172.17.0.50'], /--ip 172\.17\.0\.50: user specified IP address is supported on user defined networks only/],
      [['--network', 'fixed', '--ip', `10.${X}.15.7`], /not in network fixed's subnet/],
      [['--network', 'fixed', '--ip', `10.${X}.14.7`], /not in network fixed's --ip-range/],
      [['--network', 'fixed', '--ip', 'nonsense'], /--ip/],
      [['--network', 'host', '--ip', `10.${X}.14.9`], /--ip .*--network host/],
    ];
    for (const [args, err] of cases) {
      const r = md.run(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(r.status, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, err);
    }
    const taken = md.run(['run', '--rm', '--name', 'f3', '--network', 'fixed', '--ip', `10.${X}.14.200`, 'busybox', 'true']);
    assert.equal(taken.status, 125);
    assert.match(taken.stderr, new RegExp(`10\\.${X}\\.14\\.200 is already allocated`));
    assert.deepEqual(md.ok(['ps', '-a', '--format', '{{.Names}}']).trim().split('\n').sort(), ['f1', 'f2']);
  }));

  it('connect a running container: a new interface, reachable, named; disconnect takes it away', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(16), 'front']);
    md.ok(['network', 'create', '--subnet', subnet(17), 'back']);
    md.ok(['run', '-d', '--name', 'app', '--network', 'front', 'busybox', 'sleep', '300']);
    md.ok(['run', '-d', '--name', 'db', '--network', 'back', 'busybox', 'sleep', '300']);
    assert.notEqual(md.run(['exec', 'app', 'ping', '-c', '1', '-W', '1', 'db']).status, 0, 'not on the same network yet');
    md.ok(['network', 'connect', '--alias', 'application', 'back', 'app']);
    const ip = ipOn(md, 'app', 'back');
    assert.ok(inSubnet(ip, subnet(17)));
    assert.match(md.ok(['exec', 'app', 'ip', '-4', '-o', 'addr', 'show', 'eth1']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));
    assert.match(md.ok(['exec', 'app', 'ip', 'route']), new RegExp(`default via 10\\.${X}\\.16\\.1 dev eth0`), 'the first network keeps the default route');
    assert.equal(md.run(['exec', 'app', 'ping', '-c', '1', '-W', '3', 'db']).status, 0);
    assert.equal(md.run(['exec', 'db', 'ping', '-c', '1', '-W', '3', 'application']).status, 0, 'by its alias on that network');
    const again = md.run(['network', 'connect', 'back', 'app']);
    assert.equal(again.status, 125);
    assert.match(again.stderr, /already exists in network back/);
    md.ok(['network', 'disconnect', 'back', 'app']);
    assert.notEqual(md.run(['exec', 'app', 'ip', 'link', 'show', 'eth1']).status, 0, 'eth1 is gone');
    assert.doesNotMatch(md.ok(['exec', 'db', 'cat', '/etc/hosts']), /app/);
    assert.doesNotMatch(md.ok(['exec', 'app', 'cat', '/etc/hosts']), /\sdb(\s|$)/m); // (not /db/: a hex id may contain it)
    assert.equal(md.run(['exec', 'app', 'ping', '-c', '1', '-W', '3', `10.${X}.16.1`]).status, 0, 'the first network still works');
    assert.deepEqual(firewallLinesIn([subnet(17)]).filter((l) => l.includes(ip)), []);
    const not = md.run(['network', 'disconnect', 'back', 'app']);
    assert.equal(not.status, 125);
    assert.match(not.stderr, /is not connected to network back/);
  }));

  it('connect a stopped container: it joins at its next start; --network none cannot be connected', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(18), 'late']);
    md.ok(['create', '--name', 'two', 'busybox', 'sleep', '300']);
    md.ok(['network', 'connect', 'late', 'two']);
    md.ok(['start', 'two']);
    const s = settings(md, 'two');
    assert.ok(s.Networks.bridge!.IPAddress && inSubnet(s.Networks.late!.IPAddress, subnet(18)));
    assert.deepEqual(md.ok(['exec', 'two', 'ls', '/sys/class/net']).trim().split('\n').sort(), ['eth0', 'eth1', 'lo']);
    md.ok(['create', '--name', 'iso', '--network', 'none', 'busybox', 'true']);
    const r = md.run(['network', 'connect', 'late', 'iso']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /--network none/);
  }));
});

describe('mydocker network: scale and a clean host', () => {
  it('20 containers started in parallel get 20 distinct addresses', withMydocker(async (md) => {
    md.ok(['network', 'create', '--subnet', subnet(20), 'many']);
    const runs = Array.from({ length: 20 }, (_, i) =>
      new Promise<number | null>((resolve) => {
        const c = md.spawn(['run', '-d', '--name', `p${i}`, '--network', 'many', 'busybox', 'sleep', '300']);
        c.on('exit', (code) => resolve(code));
      }),
    );
    assert.deepEqual(await Promise.all(runs), Array(20).fill(0));
    const ips = Array.from({ length: 20 }, (_, i) => ipOn(md, `p${i}`, 'many'));
    assert.equal(new Set(ips).size, 20, ips.join(' '));
    for (const ip of ips) assert.ok(inSubnet(ip, subnet(20)));
    assert.equal(Object.keys(netInspect(md, 'many').Containers).length, 20);
    // Every /etc/hosts names all 19 neighbours (parallel joins never lose one).
    for (const i of [0, 7, 19]) {
      const hosts = md.ok(['exec', `p${i}`, 'cat', '/etc/hosts']);
      for (let j = 0; j < 20; j++) assert.match(hosts, new RegExp(`[\\t ]p${j}( |$)`, 'm'), `p${i} knows p${j}`);
    }
  }));

  it('run/rm 50 times with a published port leaves nothing behind', withMydocker(async (md) => {
    const hp = await freePort();
    md.ok(['run', '--rm', 'busybox', 'true']); // the default network exists from here on
    const before = statSnapshot(md);
    const ipamDir = `${md.root}/run/networks/ipam/bridge`;
    for (let i = 0; i < 50; i++) {
      const r = md.run(['run', '--rm', '-p', `${hp}:80`, 'busybox', 'true']);
      assert.equal(r.status, 0, `run ${i}: ${r.stderr}`);
    }
    assert.deepEqual(statSnapshot(md), before);
    assert.deepEqual(networkLeaks(md.root), []);
    assert.deepEqual(spawnSync('ls', [ipamDir], { encoding: 'utf8' }).stdout.trim().split('\n').sort(), ['last_reserved_ip.0', 'lock']);
  }));
});

describe('mydocker network create --internal', () => {
  it('an internal network talks within its subnet only: no default route, nothing forwarded in or out, no published ports', withMydocker((md) => {
    md.ok(['network', 'create', '--subnet', subnet(21), 'outa']);
    md.ok(['network', 'create', '--subnet', subnet(23), 'outb']);
    md.ok(['network', 'create', '--internal', '--subnet', subnet(22), 'inner']);
    assert.equal(md.ok(['network', 'inspect', '--format', '{{.Internal}}', 'inner']), 'true\n');
    assert.equal(md.ok(['network', 'inspect', '--format', '{{.Internal}}', 'outa']), 'false\n');
    assert.match(md.ok(['network', 'ls', '--format', '{{.Name}} {{.Internal}}']), /^inner true$/m);
    md.ok(['run', '-d', '--name', 'ca', '--network', 'outa', 'busybox', 'sleep', '300']);
    md.ok(['run', '-d', '--name', 'cb', '--network', 'outb', 'busybox', 'sleep', '300']);
    const r = md.run(['run', '-d', '--name', 'i1', '--network', 'inner', '-p', '127.0.0.1::80', 'busybox', 'sleep', '300']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, 'WARNING: Published ports are discarded on the internal network inner\n');
    assert.equal(md.ok(['port', 'i1']), '', 'nothing published');
    md.ok(['run', '-d', '--name', 'i2', '--network', 'inner', 'busybox', 'sleep', '300']);
    const ip = (n: string, net: string) => ipOn(md, n, net);
    // The control: two ordinary networks reach each other through the host.
    assert.equal(md.run(['exec', 'ca', 'ping', '-c1', '-W2', ip('cb', 'outb')]).status, 0, 'outa reaches outb (the control)');
    assert.doesNotMatch(md.ok(['exec', 'i1', 'ip', 'route']), /default/, 'no default route');
    assert.equal(md.run(['exec', 'i1', 'ping', '-c1', '-W2', ip('i2', 'inner')]).status, 0, 'its neighbour on the internal network');
    assert.equal(md.run(['exec', 'i1', 'ping', '-c1', '-W2', `10.${X}.22.1`]).status, 0, 'its gateway (the host on the bridge)');
    assert.notEqual(md.run(['exec', 'i1', 'ping', '-c1', '-W2', ip('ca', 'outa')]).status, 0, 'nothing out');
    // In: i1 could not answer anyway (no route back), so count the echo requests that reach it.
    const inEchos = () => {
      const lines = md.ok(['exec', 'i1', 'cat', '/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Icmp:'));
      const [names, values] = lines.map((l) => l.split(/\s+/));
      return Number(values![names!.indexOf('InEchos')]);
    };
    const before = inEchos();
    assert.notEqual(md.run(['exec', 'ca', 'ping', '-c2', '-W1', ip('i1', 'inner')]).status, 0);
    assert.equal(inEchos(), before, 'nothing in: no echo request from outside reached it');
    md.ok(['exec', 'i2', 'ping', '-c1', '-W2', ip('i1', 'inner')]);
    assert.ok(inEchos() > before, 'one from its neighbour did (the counter counts)');
    assert.deepEqual(firewallLinesIn([subnet(22)]).filter((l) => /MASQUERADE/.test(l)), [], 'no masquerade for it');
    md.ok(['rm', '-f', 'ca', 'cb', 'i1', 'i2']);
    md.ok(['network', 'rm', 'outa', 'outb', 'inner']);
  }));
});
