// The CNI plumbing without a kernel: the plugin skeleton's checks and errors, conflist loading
// and per-plugin configs (capabilities -> runtimeConfig), port specs and the port registry, the
// firewall transactions, the hook's annotation contract, rtnetlink encoding.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseBridgeConf } from '../../src/network/bridge/config.js';
import { addTransaction, delTransaction, deleteFromSave, type FirewallSpec, missingFromSave } from '../../src/network/bridge/firewall.js';
import { parsePortMappings, parsePortSpec, PortRegistry } from '../../src/network/bridge/ports.js';
import { attachmentTag } from '../../src/network/bridge/records.js';
import { loadNetworkList, pluginConfig } from '../../src/network/cni/chain.js';
import { type CniPlugin, invokePlugin, requestFrom } from '../../src/network/cni/skel.js';
import { ErrCode, resultFor } from '../../src/network/cni/types.js';
import { parseAnnotations } from '../../src/network/hook/annotations.js';
import { ipamConfigOf } from '../../src/network/index.js';
import { attr, parseAttrs, Rtnl } from '../../src/network/rtnetlink.js';
import { cniError, tmp } from '../helpers/cni-unit.js';



const env = (extra: Record<string, string>) => ({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', ...extra });

describe('CNI plugin skeleton', () => {
  it('names what is missing or malformed, with the spec\'s error codes', () => {
    cniError(() => requestFrom({}, '{}'), ErrCode.InvalidEnv, /CNI_COMMAND: not set/);
    cniError(() => requestFrom(env({ CNI_COMMAND: 'FOO' }), '{}'), ErrCode.InvalidEnv, /CNI_COMMAND "FOO": unknown/);
    cniError(() => requestFrom(env({ CNI_NETNS: '' }), '{}'), ErrCode.InvalidEnv, /required environment variables missing: CNI_NETNS/);
    cniError(() => requestFrom(env({ CNI_IFNAME: 'a-name-longer-than-15' }), '{}'), ErrCode.InvalidEnv, /CNI_IFNAME "a-name-longer-than-15": longer than 15 bytes/);
    cniError(() => requestFrom(env({ CNI_CONTAINERID: 'a/b' }), '{}'), ErrCode.InvalidEnv, /CNI_CONTAINERID "a\/b"/);
    cniError(() => requestFrom(env({}), '{nope'), ErrCode.DecodingFailure, /not valid JSON/);
    // DEL needs no netns: the container may be long gone.
    assert.equal(requestFrom(env({ CNI_COMMAND: 'DEL', CNI_NETNS: '' }), '{}').netns, '');
  });

  it('checks the version before the command; VERSION lists what it speaks', () => {
    const plugin: CniPlugin = { add: () => ({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] }), del: () => {}, check: () => {} };
    const req = (config: object, command = 'ADD') => requestFrom(env({ CNI_COMMAND: command }), JSON.stringify(config));
    cniError(() => invokePlugin(plugin, req({ cniVersion: '0.2.0' })), ErrCode.IncompatibleVersion, /incompatible CNI version 0\.2\.0/);
    cniError(() => invokePlugin(plugin, req({})), ErrCode.InvalidConfig, /cniVersion: missing/);
    assert.deepEqual(invokePlugin(plugin, req({ cniVersion: '1.0.0' }, 'VERSION')), { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    // An old version gets an old result: each address tagged with its IP version.
    assert.deepEqual(invokePlugin(plugin, req({ cniVersion: '0.4.0' })), { cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24', version: '4' }] });
    cniError(() => invokePlugin(plugin, req({ cniVersion: '1.0.0' }, 'STATUS')), ErrCode.IncompatibleVersion, /STATUS: needs cniVersion 1\.1\.0/);
    assert.deepEqual(resultFor({ cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24', version: '4' }] }, '1.0.0').ips, [{ address: '10.0.0.2/24' }]);
  });
});

describe('mydocker-bridge configuration', () => {
  const base = { cniVersion: '1.0.0', name: 'n1', type: 'mydocker-bridge', ipam: { type: 'mydocker-ipam' } };
  const parse = (extra: object, args = '') => parseBridgeConf({ config: { ...base, ...extra }, args });

  it('takes the reference plugin\'s keys and defaults', () => {
    const c = parse({ isDefaultGateway: true, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80 }] } }, 'MAC=02:00:00:00:00:01');
    assert.equal(c.bridge, 'cni0');
    assert.equal(c.isGateway, true);
    assert.deepEqual(c.portMappings, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }]);
    assert.equal(c.mac?.toString('hex'), '020000000001');
  });

  it('refuses bad values by name, and the reference keys it does not implement', () => {
    cniError(() => parse({ bridge: 'a-bridge-name-too-long' }), ErrCode.InvalidConfig, /bridge "a-bridge-name-too-long": longer than 15 bytes/);
    cniError(() => parse({ isGateway: 'yes' }), ErrCode.InvalidConfig, /isGateway: must be true or false \(got "yes"\)/);
    cniError(() => parse({ mtu: 20 }), ErrCode.InvalidConfig, /mtu: 20 must be an integer from 68 to 65535/);
    cniError(() => parse({ vlan: 5 }), ErrCode.UnsupportedField, /vlan: not supported by mydocker-bridge/);
    cniError(() => parse({ ipam: undefined, ipMasq: true }), ErrCode.InvalidConfig, /ipMasq: needs addresses/);
    cniError(() => parse({ runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80 }] } }), ErrCode.InvalidConfig, /runtimeConfig\.portMappings\[0\]\.hostPort: 0 is not a port/);
    cniError(() => parse({ runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 80, protocol: 'sctp' }] } }), ErrCode.InvalidConfig, /"sctp" is not a supported protocol/);
    cniError(() => parse({}, 'MAC=01:00:00:00:00:01'), ErrCode.InvalidConfig, /CNI_ARGS MAC: 01:00:00:00:00:01 is a multicast address/);
  });
});

describe('port maps', () => {
  it('reads docker\'s -p forms', () => {
    assert.deepEqual(parsePortSpec('8080:80'), { hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    assert.deepEqual(parsePortSpec('127.0.0.1:5353:53/udp'), { hostIP: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' });
    assert.throws(() => parsePortSpec('80'), /expected \[hostIP:\]hostPort:containerPort/);
    assert.throws(() => parsePortSpec('[::1]:80:80'), /IPv6 is not supported/);
    assert.throws(() => parsePortSpec('70000:80'), /host port: "70000" is not a port/);
  });

  it('refuses overlapping maps in one request', () => {
    assert.throws(() => parsePortMappings([{ hostPort: 80, containerPort: 80 }, { hostPort: 80, containerPort: 81, hostIP: '127.0.0.1' }]), /\[1\]: 127\.0\.0\.1:80->81\/tcp overlaps .*\[0\]/);
    assert.equal(parsePortMappings([{ hostPort: 80, containerPort: 80 }, { hostPort: 80, containerPort: 80, protocol: 'udp' }]).length, 2);
  });

  it('the host-wide registry: one owner per host port, wildcard against specific included', () => {
    const reg = new PortRegistry(tmp());
    const m = (hostPort: number, hostIP = '', protocol: 'tcp' | 'udp' = 'tcp') => ({ hostPort, containerPort: 80, protocol, hostIP });
    reg.claim('tagA', 'ctrA', [m(8080, '127.0.0.1'), m(9090)]);
    cniError(() => reg.claim('tagB', 'ctrB', [m(8080)]), ErrCode.PortConflict, /host port 8080\/tcp is already mapped by container ctrA/);
    cniError(() => reg.claim('tagB', 'ctrB', [m(9090, '10.0.0.1')]), ErrCode.PortConflict, /host port 9090\/tcp on 10\.0\.0\.1 is already mapped by container ctrA/);
    reg.claim('tagB', 'ctrB', [m(8080, '10.0.0.1'), m(9090, '', 'udp')]);
    reg.claim('tagA', 'ctrA', [m(9090)]); // its own: fine (a retried ADD)
    reg.release('tagB', [m(9090)]); // not B's: left alone
    cniError(() => reg.claim('tagC', 'ctrC', [m(9090)]), ErrCode.PortConflict, /by container ctrA/);
    reg.release('tagA', [m(8080, '127.0.0.1'), m(9090)]);
    reg.claim('tagC', 'ctrC', [m(9090), m(8080, '127.0.0.1')]);
  });
});

describe('firewall transactions', () => {
  const spec: FirewallSpec = {
    tag: attachmentTag('n1', 'c1', 'eth0'),
    network: 'n1',
    containerId: 'c1',
    ifname: 'eth0',
    ip: '10.9.0.2',
    subnet: '10.9.0.0/24',
    ipMasq: true,
    ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }, { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' }],
  };
  const t = spec.tag;

  it('one transaction adds chains and tagged rules; its inverse removes exactly them', () => {
    const add = addTransaction(spec);
    assert.equal(add.match(/^\*/gm)?.length, 2);
    assert.match(add, new RegExp(`^:MYDOCKER-MASQ-${t} - \\[0:0\\]$`, 'm'));
    assert.match(add, new RegExp(`^-A MYDOCKER-DNAT-${t} -d 127\\.0\\.0\\.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10\\.9\\.0\\.2:53$`, 'm'));
    assert.match(add, /^-I FORWARD -s 10\.9\.0\.2\/32 -m comment --comment "mydocker:\w+ n1 c1\/eth0" -j ACCEPT$/m);
    // Every rule in a built-in chain carries the tag.
    for (const l of add.split('\n').filter((x) => /^-[AI] (PREROUTING|OUTPUT|POSTROUTING|FORWARD) /.test(x))) assert.match(l, new RegExp(`"mydocker:${t} `));
    const del = delTransaction(spec);
    assert.ok(!/^-A /m.test(del));
    assert.match(del, new RegExp(`^-D POSTROUTING -s 10\\.9\\.0\\.2/32 .* -j MYDOCKER-MASQ-${t}$`, 'm'));
    assert.match(del, new RegExp(`^-F MYDOCKER-DNAT-${t}\\n-X MYDOCKER-DNAT-${t}$`, 'm'));
    assert.match(del, /^-D FORWARD -s 10\.9\.0\.2\/32 /m);
  });

  it('internal: no masquerade, no accept beyond the subnet, drops both ways; its inverse removes them', () => {
    const internal: FirewallSpec = { ...spec, ipMasq: false, internal: true, ports: [] };
    const add = addTransaction(internal);
    assert.doesNotMatch(add, /MASQUERADE|MYDOCKER-MASQ|DNAT/);
    assert.match(add, /^-I FORWARD -s 10\.9\.0\.2\/32 ! -d 10\.9\.0\.0\/24 -m comment --comment "mydocker:\w+ n1 c1\/eth0" -j DROP$/m);
    assert.match(add, /^-I FORWARD -d 10\.9\.0\.2\/32 ! -s 10\.9\.0\.0\/24 -m comment --comment "mydocker:\w+ n1 c1\/eth0" -j DROP$/m);
    assert.match(add, /^-I FORWARD -s 10\.9\.0\.2\/32 -d 10\.9\.0\.0\/24 -m comment --comment "mydocker:\w+ n1 c1\/eth0" -j ACCEPT$/m);
    assert.doesNotMatch(add, /^-I FORWARD -s 10\.9\.0\.2\/32 -m comment/m, 'no blanket accept');
    const del = delTransaction(internal);
    assert.equal(del.match(/^-D FORWARD /gm)?.length, 3);
  });

  it('from a listing: deletes what carries the tag, and nothing of anyone else', () => {
    const save = [
      '*filter',
      ':FORWARD DROP [0:0]',
      ':DOCKER-USER - [0:0]',
      `-A FORWARD -s 10.9.0.2/32 -m comment --comment "mydocker:${t} n1 c1/eth0" -j ACCEPT`,
      '-A FORWARD -s 10.9.0.3/32 -m comment --comment "mydocker:0123456789a n1 c2/eth0" -j ACCEPT',
      '-A FORWARD -j DOCKER-USER',
      'COMMIT',
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      `:MYDOCKER-MASQ-${t} - [0:0]`,
      ':MYDOCKER-MASQ-0123456789a - [0:0]',
      `-A POSTROUTING -s 10.9.0.2/32 -m comment --comment "mydocker:${t} n1 c1/eth0" -j MYDOCKER-MASQ-${t}`,
      `-A MYDOCKER-MASQ-${t} -d 10.9.0.0/24 -j RETURN`,
      '-A POSTROUTING -s 10.9.0.3/32 -m comment --comment "mydocker:0123456789a n1 c2/eth0" -j MYDOCKER-MASQ-0123456789a',
      'COMMIT',
    ].join('\n');
    assert.equal(
      deleteFromSave(save, t),
      `*filter\n-D FORWARD -s 10.9.0.2/32 -m comment --comment "mydocker:${t} n1 c1/eth0" -j ACCEPT\nCOMMIT\n` +
        `*nat\n-D POSTROUTING -s 10.9.0.2/32 -m comment --comment "mydocker:${t} n1 c1/eth0" -j MYDOCKER-MASQ-${t}\n-F MYDOCKER-MASQ-${t}\n-X MYDOCKER-MASQ-${t}\nCOMMIT\n`,
    );
    assert.equal(deleteFromSave(save, 'fffffffffff'), '');
    assert.ok(missingFromSave(save, spec).length > 0);
  });
});

describe('conflists and plugin configs', () => {
  it('finds a network by file name or by its name field; a .conf is a list of one', () => {
    const d = tmp();
    writeFileSync(join(d, '10-a.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'alpha', plugins: [{ type: 'bridge' }, { type: 'portmap' }] }));
    writeFileSync(join(d, 'beta.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'beta', type: 'mydocker-bridge', bridge: 'b0' }));
    writeFileSync(join(d, 'broken.conflist'), '{');
    assert.deepEqual(loadNetworkList('alpha', d).list.plugins.map((p) => p.type), ['bridge', 'portmap']);
    assert.deepEqual(loadNetworkList('beta', d).list, { cniVersion: '0.4.0', name: 'beta', disableCheck: false, plugins: [{ type: 'mydocker-bridge', bridge: 'b0' }] });
    assert.equal(loadNetworkList(join(d, 'beta.conf')).list.name, 'beta');
    cniError(() => loadNetworkList('gamma', d), ErrCode.InvalidConfig, /network gamma: not found in /);
    cniError(() => loadNetworkList(join(d, 'broken.conflist')), ErrCode.DecodingFailure, /not valid JSON/);
    cniError(() => loadNetworkList('relative/path'), ErrCode.InvalidConfig, /a path must be absolute/);
  });

  it('finds the mydocker-ipam section of a network, for pre-allocation', () => {
    const list = { cniVersion: '1.0.0', name: 'web', plugins: [{ type: 'mydocker-bridge', ipam: { type: 'mydocker-ipam', subnet: '10.5.0.0/16', dataDir: '/d' } }, { type: 'tuning' }] };
    const c = ipamConfigOf(list)!;
    assert.equal(c.network, 'web');
    assert.equal(c.dataDir, '/d');
    assert.equal(ipamConfigOf({ ...list, plugins: [{ type: 'bridge', ipam: { type: 'host-local', subnet: '10.5.0.0/16' } }] }), null);
  });

  it('passes each plugin only the capabilities it declares, plus name, version and prevResult', () => {
    const list = { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true, ips: false } }] };
    const rt = { containerId: 'c', netns: '/n', ifname: 'eth0', args: [], capabilityArgs: { portMappings: [{ hostPort: 1 }], ips: ['10.0.0.2'] }, path: [] };
    assert.deepEqual(pluginConfig(list, list.plugins[0]!, rt), { type: 'bridge', name: 'n', cniVersion: '1.0.0' });
    const prev = { cniVersion: '1.0.0', ips: [] };
    assert.deepEqual(pluginConfig(list, list.plugins[1]!, rt, prev), {
      type: 'portmap',
      capabilities: { portMappings: true, ips: false },
      name: 'n',
      cniVersion: '1.0.0',
      prevResult: prev,
      runtimeConfig: { portMappings: [{ hostPort: 1 }] },
    });
  });
});

describe('the hook\'s annotation contract', () => {
  const path = ['/usr/lib/cni'];
  it('nothing named: nothing to do', () => {
    assert.equal(parseAnnotations({ 'org.example': 'x' }, path), null);
  });

  it('one network from flat keys, several from a JSON list', () => {
    const one = parseAnnotations(
      { 'org.mydocker.cni.network': 'web', 'org.mydocker.cni.ip': '10.88.0.5', 'org.mydocker.cni.ports': '8080:80, 127.0.0.1:5353:53/udp', 'org.mydocker.cni.statedir': '/var/lib/x' },
      path,
    )!;
    assert.deepEqual(one.attachments, [
      {
        network: 'web',
        ifname: 'eth0',
        ip: '10.88.0.5',
        portMappings: [
          { hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
          { hostIP: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
        ],
      },
    ]);
    assert.equal(one.confDir, '/etc/cni/net.d');
    assert.equal(one.stateDir, '/var/lib/x');
    assert.deepEqual(one.cniPath, path);
    const many = parseAnnotations({ 'org.mydocker.cni.networks': JSON.stringify([{ network: 'a' }, { network: '/etc/x.conflist', ports: ['81:80'] }]), 'org.mydocker.cni.path': '/a:/b' }, path)!;
    assert.deepEqual(many.attachments.map((a) => [a.network, a.ifname, a.portMappings.length]), [['a', 'eth0', 0], ['/etc/x.conflist', 'eth1', 1]]);
    assert.deepEqual(many.cniPath, ['/a', '/b']);
  });

  it('refuses a bad annotation by its key', () => {
    const bad = (ann: Record<string, string>, msg: RegExp) => cniError(() => parseAnnotations(ann, path), ErrCode.InvalidConfig, msg);
    bad({ 'org.mydocker.cni.network': 'a', 'org.mydocker.cni.ip': '10.0.0' }, /annotation org\.mydocker\.cni\.network: ip: "10\.0\.0" is not an IPv4 address/);
    bad({ 'org.mydocker.cni.network': 'a', 'org.mydocker.cni.ports': '8080' }, /ports: "8080": expected/);
    bad({ 'org.mydocker.cni.network': 'a', 'org.mydocker.cni.ports': '80:80,80:81' }, /overlaps/);
    bad({ 'org.mydocker.cni.networks': '[{"network":"a"},{"network":"b","ifname":"eth0"}]' }, /interface eth0 is used twice/);
    bad({ 'org.mydocker.cni.networks': '{' }, /org\.mydocker\.cni\.networks: not valid JSON/);
    bad({ 'org.mydocker.cni.network': 'a', 'org.mydocker.cni.networks': '[]' }, /give either it or org\.mydocker\.cni\.network/);
    bad({ 'org.mydocker.cni.ip': '10.0.0.1' }, /org\.mydocker\.cni\.ip: needs org\.mydocker\.cni\.network/);
    bad({ 'org.mydocker.cni.network': 'a', 'org.mydocker.cni.statedir': 'rel' }, /statedir: "rel" must be an absolute path/);
  });
});

describe('rtnetlink encoding', () => {
  it('attributes round-trip, padded to 4 bytes', () => {
    const buf = Buffer.concat([attr(3, Buffer.from('eth0\0')), attr(4, Buffer.from([0xdc, 0x05, 0, 0]))]);
    assert.equal(buf.length, 8 + 4 + 8);
    const a = parseAttrs(buf, 0);
    assert.equal(a.get(3)!.toString(), 'eth0\0');
    assert.equal(a.get(4)!.readUInt32LE(0), 1500);
  });

  it('a veth pair in one message: host side enslaved and up; the peer in the netns fd, not up (veth refuses that)', () => {
    const r = new Rtnl(null as never).vethRequest({ hostName: 'vethabc', peerName: 'eth0', peerNsFd: 7, master: 4, mtu: 1400 });
    assert.equal(r.type, 16);
    assert.equal(r.body.readUInt32LE(8), 1); // ifi_flags: IFF_UP
    const a = parseAttrs(r.body, 16);
    assert.equal(a.get(10)!.readUInt32LE(0), 4); // IFLA_MASTER
    const data = parseAttrs(parseAttrs(a.get(18)!, 0).get(2)!, 0); // IFLA_LINKINFO > IFLA_INFO_DATA
    const peer = data.get(1)!; // VETH_INFO_PEER
    assert.equal(peer.readUInt32LE(8), 0);
    const pa = parseAttrs(peer, 16);
    assert.equal(pa.get(3)!.toString(), 'eth0\0');
    assert.equal(pa.get(28)!.readUInt32LE(0), 7); // IFLA_NET_NS_FD
  });
});
