// mydocker-bridge + mydocker-ipam driven as a CNI client drives plugins (one process each,
// CNI_* environment, config on stdin), side by side with the reference chain (bridge +
// host-local + portmap from Debian's containernetworking-plugins) on the same configuration:
// same result shape, same reachability (containers, host, outside, 127.0.0.1, hairpin, UDP),
// both clean after DEL. Each side runs in a world of its own (test/helpers/cni.ts): a network
// namespace as the host, another as an outside machine, the containers' namespaces.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import type { NetworkList, RuntimeConf } from '../../src/network/cni/chain.js';
import { filesUnder, haveRefPlugins, haveSocat, httpGet, type Netns, OUR_CNI, REF_CNI, runTag, serve, udpAsk, until, World } from '../helpers/cni.js';

const skipRef = !haveRefPlugins() && 'the reference plugins are not in /usr/lib/cni (containernetworking-plugins)';
const skipSocat = !haveSocat() && 'no socat';

type Kind = 'ours' | 'ref';

/** One network configuration, written for the reference chain; ours differs only in `type` (and where it keeps state). */
function conflist(kind: Kind, w: World, subnet: string): NetworkList {
  const bridge = {
    bridge: `${w.tag}br`,
    isGateway: true,
    ipMasq: true,
    hairpinMode: true,
    ipam: { type: 'host-local', subnet, dataDir: `${w.dir}/ipam`, routes: [{ dst: '0.0.0.0/0' }] },
  };
  if (kind === 'ref') {
    return { cniVersion: '1.0.0', name: `${w.tag}net`, plugins: [{ type: 'bridge', ...bridge }, { type: 'portmap', capabilities: { portMappings: true } }] };
  }
  return {
    cniVersion: '1.0.0',
    name: `${w.tag}net`,
    plugins: [{ type: 'mydocker-bridge', ...bridge, ipam: { ...bridge.ipam, type: 'mydocker-ipam' }, stateDir: `${w.dir}/state`, capabilities: { portMappings: true } }],
  };
}

function rt(kind: Kind, containerId: string, c: Netns, ports: unknown[] = []): RuntimeConf {
  return {
    containerId,
    netns: c.path,
    ifname: 'eth0',
    args: [],
    capabilityArgs: ports.length ? { portMappings: ports } : {},
    path: kind === 'ours' ? [OUR_CNI] : [REF_CNI],
  };
}

const HP = 18080;
const HPU = 15353;
const PORTS = [
  { hostPort: HP, containerPort: 80, protocol: 'tcp' },
  { hostPort: HPU, containerPort: 53, protocol: 'udp' },
];

/** The result with its variable parts (MACs, random veth names) reduced to what they are. */
function shape(r: any, bridge: string) {
  return {
    cniVersion: r.cniVersion,
    interfaces: r.interfaces.map((i: any) => ({
      name: i.name === bridge ? '<bridge>' : i.sandbox ? i.name : /^veth/.test(i.name) ? '<veth>' : i.name,
      mac: /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(i.mac) ? '<mac>' : i.mac,
      ...(i.sandbox ? { sandbox: i.sandbox } : {}),
    })),
    ips: r.ips,
    routes: r.routes,
    dns: r.dns,
  };
}

interface Outcome {
  results: any[];
  reach: Record<string, boolean>;
  before: ReturnType<World['snapshot']>;
  after: ReturnType<World['snapshot']>;
  files: string[];
  check: true | string;
  delAgain: boolean;
}

/** Two containers on one network, c1 with a TCP and a UDP port map; every path probed; then DEL (twice). */
function scenario(kind: Kind, w: World): Outcome {
  const list = conflist(kind, w, '10.231.0.0/24');
  const c1 = w.container('c1');
  const c2 = w.container('c2');
  const before = w.snapshot();
  const r1 = rt(kind, `${w.tag}-c1`, c1, PORTS);
  const r2 = rt(kind, `${w.tag}-c2`, c2);
  const a1 = w.chain(list, r1, 'ADD');
  assert.ok(a1.ok, `${kind} ADD c1: ${JSON.stringify(a1.error)}`);
  const a2 = w.chain(list, r2, 'ADD');
  assert.ok(a2.ok, `${kind} ADD c2: ${JSON.stringify(a2.error)}`);
  const ip1 = a1.result.ips[0].address.split('/')[0];
  const ip2 = a2.result.ips[0].address.split('/')[0];
  const gw = a1.result.ips[0].gateway;

  serve(c1, w.dir, 80, 53, `hello-from-${kind}-c1`);
  w.outside.background('socat', ['TCP4-LISTEN:9,fork,reuseaddr', 'SYSTEM:echo peer=$SOCAT_PEERADDR']);
  until(() => httpGet(c1, '127.0.0.1', 80).includes('hello-from'), 'httpd in c1');
  until(() => udpAsk(c1, '127.0.0.1', 53) === 'udp-ping', 'the UDP echo in c1');
  until(() => w.outside.exec('busybox', ['nc', '-w', '1', '127.0.0.1', '9']).stdout.includes('peer='), 'the outside echo');

  const body = `hello-from-${kind}-c1`;
  const tcp = (ns: Netns, addr: string, port = HP) => httpGet(ns, addr, port).includes(body);
  const udp = (ns: Netns, addr: string) => udpAsk(ns, addr, HPU) === 'udp-ping';
  const ping = (ns: Netns, addr: string) => ns.exec('busybox', ['ping', '-c', '1', '-W', '2', addr]).status === 0;
  const reach: Record<string, boolean> = {
    'c1 -> gateway (ping)': ping(c1, gw),
    'c2 -> c1 (ping)': ping(c2, ip1),
    'c1 -> c2 (ping)': ping(c1, ip2),
    'host -> c1:80 (direct)': tcp(w.host, ip1, 80),
    'outside -> host address:port (tcp)': tcp(w.outside, w.hostAddr),
    'outside -> host address:port (udp)': udp(w.outside, w.hostAddr),
    'host -> 127.0.0.1:port (tcp)': tcp(w.host, '127.0.0.1'),
    'host -> 127.0.0.1:port (udp)': udp(w.host, '127.0.0.1'),
    'host -> gateway:port (tcp)': tcp(w.host, gw),
    'host -> its outside address:port (tcp)': tcp(w.host, w.hostAddr),
    'c1 -> gateway:port -> itself (tcp hairpin)': tcp(c1, gw),
    'c1 -> gateway:port -> itself (udp hairpin)': udp(c1, gw),
    'c2 -> gateway:port -> c1 (tcp hairpin)': tcp(c2, gw),
    'c2 -> gateway:port -> c1 (udp hairpin)': udp(c2, gw),
    'c2 -> host outside address:port -> c1 (tcp)': tcp(c2, w.hostAddr),
    'c1 -> outside, masqueraded as the host': c1.exec('busybox', ['nc', '-w', '3', w.outsideAddr, '9']).stdout.trim() === `peer=${w.hostAddr}`,
  };

  // The reference portmap's CHECK looks for IPv6 rules an IPv4-only container never had and
  // fails (containernetworking/plugins#819, fixed after Debian's 1.1.1): check the rest of its chain.
  const checkList = kind === 'ref' ? { ...list, plugins: list.plugins.filter((p) => p.type !== 'portmap') } : list;
  const checked = w.chain(checkList, r1, 'CHECK', a1.result);
  const check = checked.ok || JSON.stringify(checked.error);
  assert.ok(w.chain(list, r1, 'DEL', a1.result).ok, `${kind} DEL c1`);
  assert.ok(w.chain(list, r2, 'DEL', a2.result).ok, `${kind} DEL c2`);
  // A DEL again, without prevResult and without the netns (the container is long gone).
  const delAgain = w.chain(list, { ...r1, netns: '' }, 'DEL').ok && w.chain(list, { ...r2, netns: '' }, 'DEL').ok;
  return { results: [a1.result, a2.result], reach, before, after: w.snapshot(), files: filesUnder(w.dir).filter((f) => !f.startsWith('www-')), check, delAgain };
}

describe('mydocker-bridge as a CNI plugin, side by side with the reference chain', { skip: skipRef || skipSocat }, () => {
  const outcomes: Partial<Record<Kind, Outcome>> = {};
  const worlds: World[] = [];
  after(() => {
    for (const w of worlds) w.destroy();
  });

  for (const kind of ['ref', 'ours'] as const) {
    it(`${kind}: ADD two containers, probe every path, CHECK, DEL twice`, () => {
      const w = new World(runTag());
      worlds.push(w);
      outcomes[kind] = scenario(kind, w);
      const o = outcomes[kind]!;
      assert.equal(o.check, true, `${kind}: CHECK after ADD`);
      assert.ok(o.delAgain, `${kind}: a second DEL, without netns and prevResult, succeeds`);
    });
  }

  it('the same result shape', () => {
    const ref = outcomes.ref!.results.map((r, i) => shape(r, `${worlds[0]!.tag}br`) && { ...shape(r, `${worlds[0]!.tag}br`), i });
    const ours = outcomes.ours!.results.map((r, i) => ({ ...shape(r, `${worlds[1]!.tag}br`), i }));
    const unSandbox = (s: any) => ({ ...s, interfaces: s.interfaces.map((i: any) => ({ ...i, sandbox: i.sandbox ? '<netns>' : undefined })) });
    assert.deepEqual(ours.map(unSandbox), ref.map(unSandbox));
  });

  it('the same reachability, every path open', () => {
    const ours = outcomes.ours!.reach;
    const ref = outcomes.ref!.reach;
    assert.deepEqual(ours, ref, `ours ${JSON.stringify(ours, null, 1)}\nref ${JSON.stringify(ref, null, 1)}`);
    for (const [path, ok] of Object.entries(ours)) assert.ok(ok, `ours: ${path}`);
  });

  it('both clean after DEL: no veth, no rule, no chain, no allocation', () => {
    for (const kind of ['ours', 'ref'] as const) {
      const o = outcomes[kind]!;
      const w = worlds[kind === 'ref' ? 0 : 1]!;
      // The bridge and its gateway address stay, as a network outlives its containers (both plugins).
      assert.deepEqual(o.after.links, [...o.before.links, `${w.tag}br`].sort(), `${kind}: links`);
      assert.deepEqual(o.after.addrs, [...o.before.addrs, `${w.tag}br 10.231.0.1/24`].sort(), `${kind}: addresses`);
      const allocated = o.files.filter((f) => /(^|\/)10\.231\.0\.\d+$/.test(f));
      assert.deepEqual(allocated, [], `${kind}: IPAM allocation files`);
    }
    // Ours: not one rule or chain left. The reference portmap keeps its shared chains
    // (CNI-HOSTPORT-DNAT/-SETMARK/-MASQ and their jumps) for ever; nothing per container stays.
    assert.deepEqual(outcomes.ours!.after.rules, outcomes.ours!.before.rules, 'ours: iptables');
    const refLeft = outcomes.ref!.after.rules.filter((l) => !outcomes.ref!.before.rules.includes(l));
    assert.deepEqual(refLeft.filter((l) => !/CNI-HOSTPORT-(DNAT|SETMARK|MASQ)/.test(l)), [], 'ref: per-container rules');
    assert.deepEqual(outcomes.ours!.files.filter((f) => f.startsWith('state/') && !f.endsWith('/lock') && f !== 'state/lock'), [], 'ours: state files');
  });
});

/** Our plugin on one network of a world, called directly. */
function ours(w: World, extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}) {
  const config = {
    cniVersion: '1.0.0',
    name: `${w.tag}net`,
    type: 'mydocker-bridge',
    bridge: `${w.tag}br`,
    isGateway: true,
    ipMasq: true,
    hairpinMode: true,
    stateDir: `${w.dir}/state`,
    ipam: { type: 'mydocker-ipam', subnet: '10.232.0.0/24', dataDir: `${w.dir}/ipam`, routes: [{ dst: '0.0.0.0/0' }], ...ipam },
    ...extra,
  };
  const call = (command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC', id: string, c: Netns | null, conf: Record<string, unknown> = config, env: Record<string, string> = {}) => {
    const r = w.plugin(`${OUR_CNI}/mydocker-bridge`, { command, containerId: id, netns: c?.path ?? '', ifname: 'eth0', ...env }, conf, [OUR_CNI, REF_CNI]);
    const out = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
    return { status: r.status, out };
  };
  return { config, call };
}

/** What a world's host holds that `before` did not: links, addresses, rules, allocation/state files. */
function leftovers(w: World, before: ReturnType<World['snapshot']>): string[] {
  const now = w.snapshot();
  const out: string[] = [];
  for (const l of now.links) if (!before.links.includes(l) && l !== `${w.tag}br`) out.push(`link ${l}`);
  for (const a of now.addrs) if (!before.addrs.includes(a) && !a.startsWith(`${w.tag}br `)) out.push(`address ${a}`);
  for (const r of now.rules) if (!before.rules.includes(r)) out.push(`rule ${r}`);
  for (const f of filesUnder(w.dir)) {
    if (/^ipam[^/]*\/[^/]+\/(lock|last_reserved_ip\.\d+)$/.test(f) || f === 'state/lock' || f.startsWith('www-')) continue;
    out.push(`file ${f}`);
  }
  return out;
}

describe('mydocker-bridge: what a host without the reference chain needs', () => {
  it('works on a host whose FORWARD policy is DROP (outside, neighbours, hairpin)', { skip: skipSocat }, () => {
    const w = new World(runTag(), { forwardPolicy: 'DROP' });
    try {
      const { config, call } = ours(w, { runtimeConfig: { portMappings: PORTS } });
      const c1 = w.container('c1');
      const c2 = w.container('c2');
      const before = w.snapshot();
      const a1 = call('ADD', 'c1', c1);
      assert.equal(a1.status, 0, JSON.stringify(a1.out));
      const a2 = call('ADD', 'c2', c2, { ...config, runtimeConfig: {} });
      assert.equal(a2.status, 0, JSON.stringify(a2.out));
      const gw = a1.out.ips[0].gateway;
      const ip1 = a1.out.ips[0].address.split('/')[0];
      serve(c1, w.dir, 80, 53, 'behind-a-drop-policy');
      until(() => httpGet(c1, '127.0.0.1', 80).includes('behind'), 'httpd in c1');
      assert.match(httpGet(w.outside, w.hostAddr, HP), /behind-a-drop-policy/, 'outside -> host port');
      assert.equal(udpAsk(w.outside, w.hostAddr, HPU), 'udp-ping', 'outside -> host port (udp)');
      assert.match(httpGet(c2, ip1, 80), /behind-a-drop-policy/, 'neighbour, directly');
      assert.match(httpGet(c2, gw, HP), /behind-a-drop-policy/, 'neighbour through the host port');
      assert.match(httpGet(c1, gw, HP), /behind-a-drop-policy/, 'itself through the host port');
      // The policy is what the host chose: it still drops what no rule of ours accepts.
      assert.equal(w.host.sh('iptables -S FORWARD | head -1').trim(), '-P FORWARD DROP');
      assert.equal(call('DEL', 'c1', c1).status, 0);
      assert.equal(call('DEL', 'c2', null, { ...config, runtimeConfig: {} }).status, 0);
      assert.deepEqual(leftovers(w, before), []);
    } finally {
      w.destroy();
    }
  });

  it('delegates IPAM to the reference host-local as well as to its own (in-process or spawned: same result)', () => {
    const w = new World(runTag());
    try {
      const c = w.container('c1');
      const before = w.snapshot();
      const results: Record<string, unknown> = {};
      for (const [how, ipamType, env] of [
        ['host-local', 'host-local', {}],
        ['mydocker-ipam in-process', 'mydocker-ipam', {}],
        ['mydocker-ipam spawned', 'mydocker-ipam', { MYDOCKER_CNI_INPROCESS: '0' }],
      ] as const) {
        // A data dir each, so that every IPAM starts from the same empty range.
        const { config } = ours(w, {}, { type: ipamType, dataDir: `${w.dir}/ipam-${ipamType}-${Object.keys(results).length}` });
        const r = w.plugin(`${OUR_CNI}/mydocker-bridge`, { command: 'ADD', containerId: 'c1', netns: c.path, ifname: 'eth0' }, config, [OUR_CNI, REF_CNI]);
        assert.equal(r.status, 0, `${how}: ${r.stdout}`);
        const res = JSON.parse(r.stdout);
        results[how] = { ips: res.ips, routes: res.routes };
        assert.equal(c.exec('busybox', ['ping', '-c', '1', '-W', '2', res.ips[0].gateway]).status, 0, `${how}: the container reaches its gateway`);
        // Spawned or not, DEL goes the same way.
        const d = w.host.exec(`${OUR_CNI}/mydocker-bridge`, [], {
          input: JSON.stringify(config),
          env: { ...process.env, NODE_EXTRA_CA_CERTS: '', CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_NETNS: c.path, CNI_IFNAME: 'eth0', CNI_PATH: `${OUR_CNI}:${REF_CNI}`, ...env },
        });
        assert.equal(d.status, 0, `${how} DEL: ${d.stdout}`);
      }
      const [hl, inproc, spawned] = Object.values(results);
      assert.deepEqual(inproc, spawned);
      assert.deepEqual(hl, inproc);
      assert.deepEqual(leftovers(w, before), []);
    } finally {
      w.destroy();
    }
  });

  it('20 parallel ADDs get 20 distinct addresses; 20 parallel DELs leave nothing', async () => {
    const w = new World(runTag());
    try {
      const { config } = ours(w);
      const cs = Array.from({ length: 20 }, (_, i) => w.container(`p${i}`));
      const before = w.snapshot();
      const spawnPlugin = (command: string, i: number) =>
        new Promise<{ status: number | null; stdout: string }>((resolve) => {
          const env = { ...process.env, NODE_EXTRA_CA_CERTS: '', CNI_COMMAND: command, CNI_CONTAINERID: `par${i}`, CNI_NETNS: cs[i]!.path, CNI_IFNAME: 'eth0', CNI_PATH: OUR_CNI };
          delete (env as Record<string, unknown>).NODE_TEST_CONTEXT;
          const p = spawn('nsenter', [`--net=${w.host.path}`, '--', `${OUR_CNI}/mydocker-bridge`], { env, stdio: ['pipe', 'pipe', 'pipe'] });
          let stdout = '';
          p.stdout.on('data', (d) => (stdout += d));
          p.on('close', (status) => resolve({ status, stdout })); // 'close': stdout read to its end
          p.stdin.end(JSON.stringify(config));
        });
      const adds = await Promise.all(cs.map((_, i) => spawnPlugin('ADD', i)));
      for (const a of adds) assert.equal(a.status, 0, a.stdout);
      const ips = adds.map((a) => JSON.parse(a.stdout).ips[0].address);
      assert.equal(new Set(ips).size, 20, `distinct: ${ips.join(' ')}`);
      // ...and each one really is on its container's interface.
      cs.forEach((c, i) => assert.match(c.sh('ip -4 -o addr show dev eth0'), new RegExp(` ${ips[i]!.replace(/\./g, '\\.')} `)));
      const dels = await Promise.all(cs.map((_, i) => spawnPlugin('DEL', i)));
      for (const d of dels) assert.equal(d.status, 0, d.stdout);
      assert.deepEqual(leftovers(w, before), []);
    } finally {
      w.destroy();
    }
  });

  it('ADD/DEL 200 times leaves the host as it was', () => {
    const w = new World(runTag());
    try {
      const { call } = ours(w, { runtimeConfig: { portMappings: PORTS } });
      const c = w.container('c1');
      const sysctls = () => w.host.sh('cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/net/ipv4/conf/all/route_localnet');
      const before = w.snapshot();
      const sysBefore = sysctls();
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const a = call('ADD', `loop${i % 7}`, c);
        assert.equal(a.status, 0, `ADD #${i}: ${JSON.stringify(a.out)}`);
        seen.add(a.out.ips[0].address);
        assert.equal(call('DEL', `loop${i % 7}`, i % 2 ? c : null).status, 0, `DEL #${i}`);
      }
      assert.deepEqual(leftovers(w, before), []);
      // The only sysctl changed is the bridge's own route_localnet (documented); it goes with the bridge.
      assert.equal(sysctls(), sysBefore);
      assert.equal(w.host.sh(`cat /proc/sys/net/ipv4/conf/${w.tag}br/route_localnet`).trim(), '1');
      // Round robin: released addresses are not handed out again at once.
      assert.ok(seen.size > 100, `${seen.size} distinct addresses over 200 ADDs`);
    } finally {
      w.destroy();
    }
  });

  it('a plugin killed with -9 at any point of ADD: the next DEL leaves nothing', async () => {
    const w = new World(runTag());
    try {
      const { config, call } = ours(w, { runtimeConfig: { portMappings: [{ hostPort: 18081, containerPort: 80, protocol: 'tcp' }] } });
      const c = w.container('c1');
      const before = w.snapshot();
      for (let i = 0; i < 16; i++) {
        const env = { ...process.env, NODE_EXTRA_CA_CERTS: '', CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'crash', CNI_NETNS: c.path, CNI_IFNAME: 'eth0', CNI_PATH: OUR_CNI };
        const p = spawn('nsenter', [`--net=${w.host.path}`, '--', `${OUR_CNI}/mydocker-bridge`], { env, stdio: ['pipe', 'ignore', 'ignore'] });
        const exited = new Promise((r) => p.on('exit', r));
        p.stdin.on('error', () => {}); // it may be gone before it reads its config
        p.stdin.end(JSON.stringify(config));
        // Node starts in ~30 ms, the ADD takes a few more: spread the kills over the whole run.
        await new Promise((r) => setTimeout(r, 16 + i * 8));
        p.kill('SIGKILL');
        await exited;
        assert.equal(call('DEL', 'crash', c).status, 0, `DEL after a kill at ${16 + i * 8} ms`);
        assert.deepEqual(leftovers(w, before), [], `after a kill at ${16 + i * 8} ms`);
        assert.equal(c.sh('ip -o link show | grep -c eth0 || true').trim(), '0');
      }
    } finally {
      w.destroy();
    }
  });
});

describe('mydocker-bridge: bad input and CNI 1.1', () => {
  it('bad input: CNI error JSON with the code and a message naming what is wrong; nothing left behind', () => {
    const w = new World(runTag());
    try {
      const { config, call } = ours(w);
      const c1 = w.container('c1');
      const c2 = w.container('c2');
      const before = w.snapshot();
      const raw = (input: string, env: Record<string, string>) => {
        const r = w.plugin(`${OUR_CNI}/mydocker-bridge`, { command: 'ADD', containerId: 'x', netns: c1.path, ifname: 'eth0', ...env }, input, [OUR_CNI]);
        return { status: r.status, out: JSON.parse(r.stdout) };
      };
      const expectError = (r: { status: number | null; out: any }, code: number, msg: RegExp) => {
        assert.equal(r.status, 1, JSON.stringify(r.out));
        assert.equal(r.out.code, code, r.out.msg);
        assert.match(r.out.msg, msg);
        assert.equal(typeof r.out.cniVersion, 'string');
      };
      expectError(raw('{"cniVersion":', {}), 6, /network configuration \(stdin\): not valid JSON/);
      expectError(raw(JSON.stringify(config), { netns: '' }), 4, /required environment variables missing: CNI_NETNS/);
      expectError(raw(JSON.stringify({ ...config, cniVersion: '0.2.0' }), {}), 1, /incompatible CNI version 0\.2\.0/);
      expectError(call('ADD', 'x', c1, { ...config, bridge: 'a-much-too-long-bridge' }), 7, /bridge "a-much-too-long-bridge": longer than 15 bytes/);
      expectError(call('ADD', 'x', c1, { ...config, ipam: { ...config.ipam, subnet: '10.1.0.0/33' } }), 7, /ipam\.subnet: "10\.1\.0\.0\/33": prefix length must be 0 to 32/);
      expectError(call('ADD', 'x', c1, { ...config, ipam: { ...config.ipam, type: 'no-such-ipam' } }), 7, /failed to find plugin "no-such-ipam" in CNI_PATH/);
      expectError(call('ADD', 'x', c1, { ...config, vlan: 3 }), 2, /vlan: not supported/);
      const gone = w.plugin(`${OUR_CNI}/mydocker-bridge`, { command: 'ADD', containerId: 'x', netns: `/run/netns/${w.tag}nope`, ifname: 'eth0' }, config, [OUR_CNI]);
      expectError({ status: gone.status, out: JSON.parse(gone.stdout) }, 3, /CNI_NETNS \/run\/netns\/\w+nope: no such network namespace/);
      assert.deepEqual(leftovers(w, before), []);

      // An exhausted range, and a host port already mapped: the failed ADD undoes all it did.
      const small = { ...config, ipam: { ...config.ipam, subnet: '10.232.9.0/30' }, runtimeConfig: { portMappings: [{ hostPort: 18090, containerPort: 80 }] } };
      assert.equal(call('ADD', 'first', c1, small).status, 0);
      const snap = w.snapshot();
      expectError(call('ADD', 'second', c2, small), 100, /no free address left in network \w+: 10\.232\.9\.0\/30 \(10\.232\.9\.1-10\.232\.9\.2\) is exhausted/);
      expectError(call('ADD', 'second', c2, { ...small, ipam: config.ipam }), 102, /host port 18090\/tcp is already mapped by container first/);
      assert.deepEqual(w.snapshot(), snap);
      assert.equal(c2.sh('ip -o link | grep -c eth0 || true').trim(), '0', 'no interface left in the second container');
      assert.equal(call('DEL', 'first', c1, small).status, 0);
      assert.deepEqual(leftovers(w, before), []);
    } finally {
      w.destroy();
    }
  });

  it('VERSION, STATUS and GC (CNI 1.1): GC removes what no valid attachment holds', () => {
    const w = new World(runTag());
    try {
      const { config, call } = ours(w, { cniVersion: '1.1.0', runtimeConfig: { portMappings: [{ hostPort: 18095, containerPort: 80 }] } });
      const v = call('VERSION', '', null, { cniVersion: '1.1.0' });
      assert.deepEqual(v.out, { cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
      assert.equal(call('STATUS', '', null).status, 0);
      const [c1, c2] = [w.container('c1'), w.container('c2')];
      const before = w.snapshot();
      assert.equal(call('ADD', 'keep', c1, { ...config, runtimeConfig: {} }).status, 0);
      const snapKeep = w.snapshot();
      assert.equal(call('ADD', 'stale', c2).status, 0);
      const gc = call('GC', '', null, { ...config, 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] });
      assert.equal(gc.status, 0, JSON.stringify(gc.out));
      assert.deepEqual(w.snapshot(), snapKeep, 'after GC: only the valid attachment is left');
      assert.equal(call('DEL', 'keep', c1, { ...config, runtimeConfig: {} }).status, 0);
      assert.equal(call('DEL', 'stale', c2).status, 0, 'a DEL after GC finds nothing to do');
      assert.deepEqual(leftovers(w, before), []);
    } finally {
      w.destroy();
    }
  });
});
