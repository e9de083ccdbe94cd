// mydocker-ipam without a kernel: host-local's configuration keys, the allocator's rules
// (reserved addresses, requests, idempotence, round robin, exhaustion, GC), the store's crash
// safety, and twenty processes allocating at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CniRequest } from '../../src/network/cni/skel.js';
import { ErrCode } from '../../src/network/cni/types.js';
import { allocate, allocations, dropNetwork, gc, release } from '../../src/network/ipam/allocator.js';
import { parseIpamConfig, requestedIps, type IpamConfig } from '../../src/network/ipam/config.js';
import { ipamPlugin } from '../../src/network/ipam/plugin.js';
import { cniError, tmp as dataDir } from '../helpers/cni-unit.js';


function conf(ipam: Record<string, unknown>, name = 'net1'): IpamConfig {
  return parseIpamConfig({ name, ipam: { type: 'mydocker-ipam', dataDir: dataDir(), ...ipam } });
}


describe('mydocker-ipam configuration (host-local keys)', () => {
  it('defaults: gateway and range from the subnet; host bits of the subnet ignored', () => {
    const c = conf({ subnet: '10.1.2.3/24' });
    assert.equal(c.rangeSets.length, 1);
    const r = c.rangeSets[0]![0]!;
    assert.deepEqual([r.subnet.ip, r.subnet.prefix, r.start, r.end, r.gateway].map(String), ['167838208', '24', '167838209', '167838462', '167838209']);
  });

  it('refuses what it cannot serve, naming the field', () => {
    const bad = (ipam: Record<string, unknown>, msg: RegExp) => cniError(() => conf(ipam), ErrCode.InvalidConfig, msg);
    bad({}, /ipam: needs "subnet"/);
    bad({ subnet: '10.1.0.0' }, /ipam\.subnet: "10\.1\.0\.0" is not an IPv4 CIDR/);
    bad({ subnet: 'fd00::/64' }, /IPv6 is not supported/);
    bad({ subnet: '10.1.0.0/31' }, /ipam\.subnet: 10\.1\.0\.0\/31 is too small/);
    bad({ subnet: '10.1.0.0/24', rangeStart: '10.2.0.5' }, /ipam\.rangeStart: 10\.2\.0\.5 is outside the subnet 10\.1\.0\.0\/24/);
    bad({ subnet: '10.1.0.0/24', rangeStart: '10.1.0.9', rangeEnd: '10.1.0.5' }, /rangeStart 10\.1\.0\.9 is after rangeEnd 10\.1\.0\.5/);
    bad({ subnet: '10.1.0.0/24', gateway: 'x' }, /ipam\.gateway: "x" is not an IPv4 address/);
    bad({ subnet: '10.1.0.0/24', routes: [{ dst: 'default' }] }, /ipam\.routes\[0\]\.dst/);
    bad({ subnet: '10.1.0.0/24', dataDir: 'rel' }, /ipam\.dataDir: "rel" must be an absolute path/);
    bad({ ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.1.0.0/25' }]] }, /ipam\.ranges\[1\]\[0\]: overlaps ipam\.ranges\[0\]\[0\]/);
    cniError(() => parseIpamConfig({ name: 'bad/name', ipam: { subnet: '10.1.0.0/24' } }), ErrCode.InvalidConfig, /name: "bad\/name" is not a valid network name/);
  });

  it('reads requested addresses from CNI_ARGS, args.cni.ips and runtimeConfig.ips', () => {
    const n = (s: string) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
    assert.deepEqual(requestedIps({}, 'IgnoreUnknown=1;IP=10.1.0.5'), [n('10.1.0.5')]);
    assert.deepEqual(requestedIps({ runtimeConfig: { ips: ['10.1.0.5/24'] } }, 'IP=10.1.0.5'), [n('10.1.0.5')]);
    assert.deepEqual(requestedIps({ args: { cni: { ips: ['10.1.0.7'] } } }, ''), [n('10.1.0.7')]);
    cniError(() => requestedIps({}, 'IP=10.1.0.300'), ErrCode.InvalidEnv, /CNI_ARGS IP: "10\.1\.0\.300" is not an IPv4 address/);
  });
});

describe('mydocker-ipam allocator', () => {
  it('hands out addresses in order, never the network, gateway or broadcast address', () => {
    const c = conf({ subnet: '10.1.0.0/29' }); // .0 network, .1 gateway, .2-.6, .7 broadcast
    const got = ['a', 'b', 'c', 'd', 'e'].map((id) => allocate(c, id, 'eth0').ips[0]!);
    assert.deepEqual(got.map((g) => g.address), ['10.1.0.2/29', '10.1.0.3/29', '10.1.0.4/29', '10.1.0.5/29', '10.1.0.6/29']);
    assert.ok(got.every((g) => g.gateway === '10.1.0.1'));
    cniError(() => allocate(c, 'f', 'eth0'), ErrCode.RangeExhausted, /no free address left in network net1: 10\.1\.0\.0\/29 \(10\.1\.0\.1-10\.1\.0\.6\) is exhausted/);
  });

  it('one allocation per container and interface: asking again gives the same address', () => {
    const c = conf({ subnet: '10.1.0.0/24' });
    const a = allocate(c, 'c1', 'eth0').ips[0]!.address;
    assert.equal(allocate(c, 'c1', 'eth0').ips[0]!.address, a);
    assert.notEqual(allocate(c, 'c1', 'eth1').ips[0]!.address, a);
    assert.equal(allocations(c).length, 2);
  });

  it('requested addresses: granted when free or already the caller\'s, refused otherwise', () => {
    const c = conf({ subnet: '10.1.0.0/24', rangeStart: '10.1.0.100', rangeEnd: '10.1.0.200' });
    const ip = (s: string) => s.split('.').reduce((x, y) => x * 256 + Number(y), 0);
    // mydocker's pre-allocation: allocate, then the ADD asks for that very address.
    const pre = allocate(c, 'web', 'eth0', [ip('10.1.0.150')]).ips[0]!.address;
    assert.equal(pre, '10.1.0.150/24');
    assert.equal(allocate(c, 'web', 'eth0', [ip('10.1.0.150')]).ips[0]!.address, pre);
    cniError(() => allocate(c, 'db', 'eth0', [ip('10.1.0.150')]), ErrCode.AddressUnavailable, /10\.1\.0\.150 is already allocated in network net1 \(held by container web, eth0\)/);
    cniError(() => allocate(c, 'web', 'eth0', [ip('10.1.0.151')]), ErrCode.AddressUnavailable, /container web \(eth0\) already holds 10\.1\.0\.150/);
    cniError(() => allocate(c, 'x', 'eth0', [ip('10.1.0.50')]), ErrCode.AddressUnavailable, /outside the range/);
    cniError(() => allocate(c, 'x', 'eth0', [ip('10.9.0.5')]), ErrCode.AddressUnavailable, /10\.9\.0\.5 is not in network net1/);
    const g = conf({ subnet: '10.1.0.0/24' });
    cniError(() => allocate(g, 'x', 'eth0', [ip('10.1.0.1')]), ErrCode.AddressUnavailable, /10\.1\.0\.1 is reserved/);
    assert.deepEqual(allocations(c).map((h) => h.ip), ['10.1.0.150']);
  });

  it('release gives back what the owner holds, idempotently; the next ADD moves on (round robin)', () => {
    const c = conf({ subnet: '10.1.0.0/24' });
    allocate(c, 'a', 'eth0');
    allocate(c, 'b', 'eth0');
    assert.deepEqual(release(c, 'a', 'eth0'), ['10.1.0.2']);
    assert.deepEqual(release(c, 'a', 'eth0'), []);
    assert.equal(allocate(c, 'c', 'eth0').ips[0]!.address, '10.1.0.4/24');
  });

  it('wraps around to free addresses when it reaches the end of the range', () => {
    const c = conf({ subnet: '10.1.0.0/29' });
    for (const id of ['a', 'b', 'c', 'd', 'e']) allocate(c, id, 'eth0');
    release(c, 'b', 'eth0');
    assert.equal(allocate(c, 'f', 'eth0').ips[0]!.address, '10.1.0.3/29');
  });

  it('GC releases whatever no valid attachment holds; dropNetwork refuses while anything is held', () => {
    const c = conf({ subnet: '10.1.0.0/24' });
    allocate(c, 'keep', 'eth0');
    allocate(c, 'stale', 'eth0');
    assert.deepEqual(gc(c, [{ containerId: 'keep', ifname: 'eth0' }]), ['10.1.0.3']);
    cniError(() => dropNetwork(c), ErrCode.InvalidConfig, /addresses are still allocated/);
    release(c, 'keep', 'eth0');
    dropNetwork(c);
    assert.deepEqual(readdirSync(c.dataDir), []);
  });

  it('survives a crash: a half-written temp file is swept, a damaged address file stays allocated', () => {
    const c = conf({ subnet: '10.1.0.0/29' });
    allocate(c, 'a', 'eth0');
    const dir = join(c.dataDir, 'net1');
    writeFileSync(join(dir, '.tmp-99999'), 'half');
    writeFileSync(join(dir, '10.1.0.3'), ''); // truncated: owner unknown, never handed out again
    assert.equal(allocate(c, 'b', 'eth0').ips[0]!.address, '10.1.0.4/29');
    assert.ok(!readdirSync(dir).some((n) => n.startsWith('.tmp-')));
    assert.deepEqual(release(c, 'b', 'eth0'), ['10.1.0.4']);
    assert.ok(readdirSync(dir).includes('10.1.0.3'));
  });

  it('twenty processes allocating at once get twenty distinct addresses', async () => {
    const c = conf({ subnet: '10.1.0.0/24' });
    const mod = fileURLToPath(new URL('../../src/network/ipam/allocator.js', import.meta.url));
    const cfg = fileURLToPath(new URL('../../src/network/ipam/config.js', import.meta.url));
    const script = `
      const { allocate } = await import(${JSON.stringify(mod)});
      const { parseIpamConfig } = await import(${JSON.stringify(cfg)});
      const c = parseIpamConfig({ name: 'net1', ipam: { subnet: '10.1.0.0/24', dataDir: ${JSON.stringify(c.dataDir)} } });
      process.stdout.write(allocate(c, process.argv[1], 'eth0').ips[0].address);`;
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    delete env.NODE_TEST_CONTEXT;
    const outs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new Promise<string>((resolve, reject) => {
          const p = spawn(process.execPath, ['--input-type=module', '-e', script, `c${i}`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`allocator process ${i}: exit ${code}`))));
        }),
      ),
    );
    assert.equal(new Set(outs).size, 20, outs.join(' '));
    assert.equal(allocations(c).length, 20);
  });
});

describe('mydocker-ipam as a CNI plugin (in-process)', () => {
  const req = (command: 'ADD' | 'DEL' | 'CHECK', config: Record<string, unknown>, args = ''): CniRequest => ({
    command,
    containerId: 'c1',
    netns: '/x',
    ifname: 'eth0',
    args,
    path: [],
    config,
    stdin: JSON.stringify(config),
  });

  it('ADD returns host-local\'s result shape; CHECK finds it; DEL releases it', () => {
    const config = { cniVersion: '1.0.0', name: 'n', ipam: { type: 'mydocker-ipam', subnet: '10.9.0.0/24', dataDir: dataDir(), routes: [{ dst: '0.0.0.0/0' }] } };
    const r = ipamPlugin.add(req('ADD', config));
    assert.deepEqual(r, { cniVersion: '1.0.0', ips: [{ address: '10.9.0.2/24', gateway: '10.9.0.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: {} });
    ipamPlugin.check(req('CHECK', { ...config, prevResult: r }));
    ipamPlugin.del(req('DEL', config));
    cniError(() => ipamPlugin.check(req('CHECK', { ...config, prevResult: r })), ErrCode.Internal, /holds no address/);
  });

  it('GC without the list of valid attachments is refused (it would release everything)', () => {
    const config = { cniVersion: '1.1.0', name: 'n', ipam: { type: 'mydocker-ipam', subnet: '10.9.0.0/24', dataDir: dataDir() } };
    cniError(() => ipamPlugin.gc!(req('ADD', config)), ErrCode.InvalidConfig, /cni\.dev\/valid-attachments: required for GC/);
  });
});
