// mydocker's networking without a kernel: network configs (the book's --subnet, gateways,
// ip-ranges, the conflist the hook reads), subnet pools, -p parsing, docker's PORTS column,
// /etc/hosts of neighbours, resolv.conf, and the glue's default-route rule for second networks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpamConfig } from '../../src/network/ipam/config.js';
import { withoutDefaultRoute } from '../../src/network/hook/glue.js';
import { parseAnnotations } from '../../src/network/hook/annotations.js';
import { parseCidr } from '../../src/network/ip4.js';
import { extraHostEntries, hostsText, resolvConfText } from '../../src/mydocker/containers/etc-files.js';
import { parseAddHost } from '../../src/mydocker/containers/options.js';
import { parseExpose, parsePublish } from '../../src/mydocker/containers/options.js';
import { addressPlan, bridgeName, conflistFor, parseNetworkFile, parseNetworkOptions } from '../../src/mydocker/network/config.js';
import { DEFAULT_POOLS, hostConflict, pickSubnet } from '../../src/mydocker/network/host.js';
import { hostsFor, type Member } from '../../src/mydocker/network/hosts.js';
import { formatPorts, networkSettingsPorts, wantedPorts } from '../../src/mydocker/network/ports.js';
import type { ContainerConfig, HostConfig } from '../../src/mydocker/containers/record.js';

const cidr = (s: string) => parseCidr(s, 't');
const fmt = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

describe('network create: addresses', () => {
  it("the book's --subnet 192.168.10.1/24: subnet 192.168.10.0/24, gateway .1", () => {
    const p = addressPlan('192.168.10.1/24');
    assert.equal(`${fmt(p.subnet.ip)}/${p.subnet.prefix}`, '192.168.10.0/24');
    assert.equal(fmt(p.gateway), '192.168.10.1');
    assert.equal(fmt(addressPlan('10.5.0.0/16').gateway), '10.5.0.1', 'a plain subnet: its first address');
    assert.equal(fmt(addressPlan('10.5.0.9/16').gateway), '10.5.0.9', 'the address written is the gateway');
    assert.equal(fmt(addressPlan('10.5.0.9/16', '10.5.3.3').gateway), '10.5.3.3', '--gateway wins');
  });

  it('bad values name their flag', () => {
    const bad: Array<[string, string | undefined, string | undefined, RegExp]> = [
      ['10.0.0.0/31', undefined, undefined, /--subnet .*too small/],
      ['10.0.0.0/7', undefined, undefined, /--subnet .*too large/],
      ['fd00::/64', undefined, undefined, /IPv6 is not supported/],
      ['10.0.0.0', undefined, undefined, /--subnet/],
      ['10.0.0.0/24', '10.0.1.1', undefined, /--gateway 10\.0\.1\.1: not in the subnet/],
      ['10.0.0.0/24', '10.0.0.0', undefined, /network or broadcast/],
      ['10.0.0.0/24', undefined, '10.0.0.0/23', /--ip-range .*not inside/],
      ['10.0.0.0/24', undefined, '10.1.0.0/28', /--ip-range .*not inside/],
    ];
    for (const [s, g, r, re] of bad) assert.throws(() => addressPlan(s, g, r), re, `${s} ${g} ${r}`);
  });

  it('the conflist: mydocker-bridge with hairpin, a default route, the root\'s state dirs; --ip-range as rangeStart/End', () => {
    const plan = addressPlan('10.7.0.0/16', undefined, '10.7.5.0/24');
    const id = 'ab'.repeat(32);
    const c = conflistFor({ name: 'n', id, plan, mtu: 1400, labels: { a: 'b' }, options: {}, builtin: false }, { ipam: '/r/ipam', plugin: '/r/cni' }, '2026-01-01T00:00:00.000Z') as any;
    const p = c.plugins[0];
    assert.deepEqual(
      { type: p.type, bridge: p.bridge, isGateway: p.isGateway, ipMasq: p.ipMasq, hairpinMode: p.hairpinMode, mtu: p.mtu, stateDir: p.stateDir },
      { type: 'mydocker-bridge', bridge: `br-${'ab'.repeat(6)}`, isGateway: true, ipMasq: true, hairpinMode: true, mtu: 1400, stateDir: '/r/cni' },
    );
    assert.deepEqual(p.ipam, { type: 'mydocker-ipam', subnet: '10.7.0.0/16', gateway: '10.7.0.1', rangeStart: '10.7.5.0', rangeEnd: '10.7.5.255', routes: [{ dst: '0.0.0.0/0' }], dataDir: '/r/ipam' });
    assert.equal(bridgeName(id).length, 15);
    // What the IPAM plugin makes of it, and what mydocker reads back.
    const ipam = parseIpamConfig({ ...p, name: 'n' });
    assert.equal(fmt(ipam.rangeSets[0]![0]!.start), '10.7.5.0');
    const back = parseNetworkFile(JSON.stringify(c), '/x.conflist');
    assert.deepEqual([back.name, back.id, back.subnet, back.gateway, back.ipRange, back.bridge, back.mtu, back.builtin, back.labels.a], ['n', id, '10.7.0.0/16', '10.7.0.1', '10.7.5.0/24', bridgeName(id), 1400, false, 'b']);
    // A range at the very start or end of the subnet never includes its network or broadcast address.
    const edge = conflistFor({ name: 'e', id, plan: addressPlan('10.8.0.0/24', undefined, '10.8.0.0/24'), mtu: 0, labels: {}, options: {}, builtin: false }, { ipam: '/i', plugin: '/p' }) as any;
    assert.deepEqual([edge.plugins[0].ipam.rangeStart, edge.plugins[0].ipam.rangeEnd], ['10.8.0.1', '10.8.0.254']);
    assert.throws(() => parseNetworkFile('{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge"}]}', '/y.conflist'), /not a mydocker network/);
    assert.throws(() => parseNetworkFile('{"tru', '/z.conflist'), /\/z\.conflist: not valid JSON/);
  });

  it('-o: the MTU, anything else refused by name', () => {
    assert.deepEqual(parseNetworkOptions(['com.docker.network.driver.mtu=1400']), { options: { 'com.docker.network.driver.mtu': '1400' }, mtu: 1400 });
    assert.throws(() => parseNetworkOptions(['com.docker.network.driver.mtu=9']), /MTU/);
    assert.throws(() => parseNetworkOptions(['com.docker.network.bridge.enable_icc=false']), /unknown option/);
  });
});

describe('subnet pools', () => {
  it("docker's pools, first free one; the host's networks and taken ones are skipped", () => {
    assert.equal(DEFAULT_POOLS.length, 31);
    assert.equal(`${fmt(DEFAULT_POOLS[0]!.ip)}/${DEFAULT_POOLS[0]!.prefix}`, '172.17.0.0/16');
    assert.equal(`${fmt(DEFAULT_POOLS[15]!.ip)}/${DEFAULT_POOLS[15]!.prefix}`, '192.168.0.0/20');
    const host = [{ cidr: cidr('172.17.5.0/24'), dev: 'eth1' }, { cidr: cidr('192.0.2.0/24'), dev: 'eth0' }];
    const got = pickSubnet([cidr('172.18.0.0/16')], host)!;
    assert.equal(`${fmt(got.ip)}/${got.prefix}`, '172.19.0.0/16');
    assert.equal(pickSubnet(DEFAULT_POOLS, []), null, 'all taken');
    assert.equal(hostConflict(cidr('172.17.0.0/16'), host)?.dev, 'eth1');
    assert.equal(hostConflict(cidr('172.17.0.0/16'), host, 'eth1'), null, "a network's own bridge is no conflict");
  });
});

describe('-p, --expose', () => {
  it("docker's forms", () => {
    assert.deepEqual(parsePublish('8080:80'), { key: '80/tcp', binding: { HostIp: '', HostPort: '8080' } });
    assert.deepEqual(parsePublish('80'), { key: '80/tcp', binding: { HostIp: '', HostPort: '' } });
    assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), { key: '80/udp', binding: { HostIp: '127.0.0.1', HostPort: '8080' } });
    assert.deepEqual(parsePublish('127.0.0.1::80'), { key: '80/tcp', binding: { HostIp: '127.0.0.1', HostPort: '' } });
    for (const [spec, re] of [
      ['8080-8081:80-81', /ranges/],
      ['80/sctp', /sctp/],
      ['80/icmp', /protocol/],
      ['0:80', /host port/],
      ['8080:70000', /container port/],
      ['[::1]:8080:80', /IPv6|IPv4/],
      ['a:b:c:d', /invalid port specification/],
      ['host:8080:80', /not an IPv4 address/],
    ] as const) {
      assert.throws(() => parsePublish(spec), re, spec);
    }
    assert.deepEqual(parseExpose('8000-8002/udp'), ['8000/udp', '8001/udp', '8002/udp']);
    assert.throws(() => parseExpose('9-2'), /range/);
  });

  it('-P publishes every exposed port that -p does not', () => {
    const config = { ExposedPorts: { '80/tcp': {}, '53/udp': {}, '443/tcp': {} } } as unknown as ContainerConfig;
    const hc = { PortBindings: { '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '8443' }] }, PublishAllPorts: true } as unknown as HostConfig;
    assert.deepEqual(wantedPorts(config, hc), [
      { containerPort: 443, protocol: 'tcp', hostIP: '127.0.0.1', hostPort: 8443 },
      { containerPort: 80, protocol: 'tcp', hostIP: '', hostPort: 0 },
      { containerPort: 53, protocol: 'udp', hostIP: '', hostPort: 0 },
    ]);
    assert.deepEqual(wantedPorts(config, { ...hc, PublishAllPorts: false }).length, 1);
    assert.deepEqual(networkSettingsPorts(config, [{ containerPort: 80, protocol: 'tcp', hostIP: '', hostPort: 32768 }]), {
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }],
      '53/udp': null,
      '443/tcp': null,
    });
  });
});

describe("docker's PORTS column (DisplayablePorts, docker's own cases)", () => {
  const P = (IP: string, PrivatePort: number, PublicPort: number, Type: string) => ({ IP, PrivatePort, PublicPort, Type });
  const cases: Array<[ReturnType<typeof P>[], string]> = [
    [[P('', 9988, 0, 'tcp')], '9988/tcp'],
    [[P('', 9988, 0, 'udp')], '9988/udp'],
    [[P('0.0.0.0', 9988, 0, 'tcp')], '0.0.0.0:0->9988/tcp'],
    [[P('4.3.2.1', 9988, 8899, 'tcp')], '4.3.2.1:8899->9988/tcp'],
    [[P('4.3.2.1', 9988, 9988, 'tcp')], '4.3.2.1:9988->9988/tcp'],
    [[P('', 9988, 0, 'udp'), P('', 9988, 0, 'udp')], '9988/udp, 9988/udp'],
    [[P('1.2.3.4', 9998, 9998, 'udp'), P('1.2.3.4', 9999, 9999, 'udp')], '1.2.3.4:9998-9999->9998-9999/udp'],
    [[P('1.2.3.4', 9998, 8887, 'udp'), P('1.2.3.4', 9999, 8888, 'udp')], '1.2.3.4:8887->9998/udp, 1.2.3.4:8888->9999/udp'],
    [[P('', 9998, 0, 'udp'), P('', 9999, 0, 'udp')], '9998-9999/udp'],
    [[P('1.2.3.4', 6677, 7766, 'tcp'), P('', 9988, 8899, 'udp')], '9988/udp, 1.2.3.4:7766->6677/tcp'],
    [[P('', 80, 0, 'tcp'), P('', 81, 0, 'tcp'), P('', 83, 0, 'tcp'), P('0.0.0.0', 8080, 32768, 'tcp')], '80-81/tcp, 83/tcp, 0.0.0.0:32768->8080/tcp'],
  ];
  for (const [ports, want] of cases) it(want, () => assert.equal(formatPorts(ports), want));
});

describe('/etc/hosts of a container among its neighbours', () => {
  const member = (id: string, name: string, hostname: string, eps: Array<[string, string]>, aliases: Record<string, string[]> = {}): Member => ({
    rec: {
      Id: id.repeat(64 / id.length),
      Name: name,
      Config: { Hostname: hostname } as ContainerConfig,
      Networks: Object.fromEntries(eps.map(([n]) => [n, { NetworkID: n, Aliases: aliases[n] ?? null, IPAMConfig: null }])),
    },
    endpoints: eps.map(([network, ip]) => ({ network, ip })),
  });
  const a = member('a', 'web', 'aaaaaaaaaaaa', [['app', '10.0.0.2'], ['bridge', '172.17.0.5']], { app: ['www'] });
  const b = member('b', 'db', 'bbbbbbbbbbbb', [['app', '10.0.0.3']]);
  const c = member('c', 'other', 'cccccccccccc', [['bridge', '172.17.0.6']]);
  const text = hostsFor(a, [a, b, c], new Set(['app']));

  it('localhost lines, then its hostname on its first address (with its names on user networks)', () => {
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], '127.0.0.1\tlocalhost');
    assert.equal(lines[6], '10.0.0.2\taaaaaaaaaaaa web www', 'hostname (the short id) once, then name and alias');
  });
  it('neighbours on user networks by name, short id and alias; none from the default bridge', () => {
    assert.match(text, /^10\.0\.0\.3\tdb bbbbbbbbbbbb$/m);
    assert.doesNotMatch(text, /other|172\.17\.0\.6/);
    assert.doesNotMatch(text, /172\.17\.0\.5/, "the default bridge's address of a second network carries no names");
    assert.equal(text.split('\n').filter((l) => l.startsWith('10.0.0.2')).length, 1);
  });
  it('a container alone on the default bridge: its own line only', () => {
    assert.equal(hostsFor(c, [a, b, c], new Set(['app'])).trimEnd().split('\n').pop(), '172.17.0.6\tcccccccccccc');
  });
});

describe('resolv.conf and the hook glue', () => {
  it("loopback resolvers go; none left: docker's defaults", () => {
    assert.equal(resolvConfText(false, 'nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch x\n'), 'nameserver 10.0.0.1\nsearch x\n');
    assert.equal(resolvConfText(false, 'nameserver 127.0.0.53\noptions edns0\n'), 'options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    assert.equal(resolvConfText(true, 'nameserver 127.0.0.53\n'), 'nameserver 127.0.0.53\n', 'host network: as is');
  });

  it('--dns, --dns-search, --dns-option replace what they name, written as docker writes the file', () => {
    const host = '# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.1\ndomain a.example\nsearch b.example c.example\noptions edns0 trust-ad\n';
    assert.equal(resolvConfText(false, host, { servers: ['10.9.9.9', '10.9.9.8'] }), 'nameserver 10.9.9.9\nnameserver 10.9.9.8\nsearch b.example c.example\noptions edns0 trust-ad\n');
    assert.equal(resolvConfText(false, host, { search: ['x.example'] }), 'nameserver 10.0.0.1\nsearch x.example\noptions edns0 trust-ad\n');
    assert.equal(resolvConfText(false, host, { search: ['.'], options: ['ndots:2'] }), 'nameserver 10.0.0.1\noptions ndots:2\n', 'search "." means none');
    assert.equal(resolvConfText(false, 'nameserver 127.0.0.53\n', { options: ['ndots:1'] }), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions ndots:1\n');
    assert.equal(resolvConfText(true, host, { options: ['ndots:3'] }), 'nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch b.example c.example\noptions ndots:3\n', 'host network keeps loopback resolvers');
    assert.equal(resolvConfText(false, host, {}), resolvConfText(false, host), 'nothing given: the host\'s');
  });

  it('--add-host: NAME:IP and NAME=IP, IPv6 in brackets, host-gateway; bad ones named', () => {
    assert.equal(parseAddHost('db:10.0.0.5', 'bridge'), 'db:10.0.0.5');
    assert.equal(parseAddHost('db=10.0.0.5', 'bridge'), 'db:10.0.0.5');
    assert.equal(parseAddHost('v6=[2001:db8::1]', 'bridge'), 'v6:2001:db8::1');
    assert.equal(parseAddHost('v6:2001:db8::1', 'bridge'), 'v6:2001:db8::1');
    assert.equal(parseAddHost('host.docker.internal:host-gateway', 'host'), 'host.docker.internal:host-gateway');
    assert.throws(() => parseAddHost('nocolon', 'bridge'), /^InputError: invalid argument "nocolon" for "--add-host" flag: bad format for add-host/);
    assert.throws(() => parseAddHost(':1.2.3.4', 'bridge'), /bad format for add-host/);
    assert.throws(() => parseAddHost('db:1.2.3', 'bridge'), /invalid IP address in add-host: "1\.2\.3"/);
    assert.throws(() => parseAddHost('g:host-gateway', 'none'), /--network none has no way to the host/);
    assert.deepEqual(extraHostEntries(['db:10.0.0.5', 'gw:host-gateway'], '172.18.0.1'), [{ ip: '10.0.0.5', names: ['db'] }, { ip: '172.18.0.1', names: ['gw'] }]);
    assert.equal(hostsText([{ ip: '172.18.0.2', names: ['me'] }], [{ ip: '10.0.0.5', names: ['db'] }]).split('\n').slice(-3).join('|'), '10.0.0.5\tdb|172.18.0.2\tme|', "docker's order: --add-host lines before the container's own");
  });

  it('a second network leaves out its default route (ipam.routes, isDefaultGateway), in any chain', () => {
    const list = {
      cniVersion: '1.0.0',
      name: 'n',
      plugins: [
        { type: 'bridge', isDefaultGateway: true, ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }, { dst: '10.9.0.0/16' }] } },
        { type: 'portmap' },
      ],
    };
    const out = withoutDefaultRoute(list);
    assert.deepEqual(out.plugins[0], { type: 'bridge', isDefaultGateway: false, ipam: { type: 'host-local', routes: [{ dst: '10.9.0.0/16' }] } });
    assert.deepEqual(out.plugins[1], { type: 'portmap' });
    assert.equal(list.plugins[0]!.isDefaultGateway, true, 'the original is untouched');
    const spec = parseAnnotations({ 'org.mydocker.cni.networks': JSON.stringify([{ network: 'a' }, { network: 'b', defaultRoute: false }]) }, ['/p']);
    assert.deepEqual(spec!.attachments.map((x) => x.defaultRoute), [undefined, false]);
    assert.throws(() => parseAnnotations({ 'org.mydocker.cni.networks': JSON.stringify([{ network: 'a', defaultRoute: 'no' }]) }, ['/p']), /defaultRoute: must be true or false/);
  });
});
