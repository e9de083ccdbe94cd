// mydocker-cni-hook through the runtime (dist/mydocker-runc.js): busybox containers whose
// bundles carry the createRuntime/poststop hooks and the network annotations. Ours runs on
// this host's own network namespace, as a user would run it; the reference chain (bridge +
// host-local + portmap) runs through the same glue with the runtime inside a throwaway host
// namespace (its portmap keeps shared chains for ever: they must never reach the real host).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { filesUnder, haveRefPlugins, haveSocat, must, Netns, OUR_CNI, REF_CNI, run, runTag, until, World } from '../helpers/cni.js';
import { baseConfig, CLI, OURS, REPO, Sandbox, uniqueId, type Runtime } from '../helpers/runtime.js';
import { allocate, allocations, ipamConfigOf, loadNetworkList } from '../../src/network/index.js';

const ipToNumber = (s: string) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);

const HOOK = join(REPO, 'dist/mydocker-cni-hook.js');
const skipRef = !haveRefPlugins() && 'the reference plugins are not in /usr/lib/cni';
const skipSocat = !haveSocat() && 'no socat';

/** Ports and a subnet of this process's own (other developers test on this host at the same time). */
const n = process.pid % 50;
const HP = 21000 + (process.pid % 4000);
const HPU = HP + 1;

/** The container's side: busybox httpd on :80 serving `body`. */
function webServer(body: string): string[] {
  return ['sh', '-c', `mkdir -p /tmp/www && echo ${body} > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www`];
}

interface Net {
  confDir: string;
  stateDir: string;
  name: string;
  bridge: string;
  dataDir: string;
  /** mydocker-bridge's own state (records, port registry). */
  pluginState: string;
}

/** A bundle config with the hook and the annotations for `net` (+ extra annotations). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function hooked(args: string[], net: Net, ann: Record<string, string> = {}, path = `${OUR_CNI}:${REF_CNI}`): any {
  const config = baseConfig(args);
  // No env at all: a hook gets only what its entry lists, and the glue must cope (no PATH).
  config.hooks = {
    createRuntime: [{ path: process.execPath, args: ['node', HOOK, 'add'] }],
    poststop: [{ path: process.execPath, args: ['node', HOOK, 'del'] }],
  };
  config.annotations = {
    'org.mydocker.cni.network': net.name,
    'org.mydocker.cni.confdir': net.confDir,
    'org.mydocker.cni.statedir': net.stateDir,
    'org.mydocker.cni.path': path,
    ...ann,
  };
  return config;
}

function resultOf(net: Net, id: string) {
  return JSON.parse(readFileSync(join(net.stateDir, id, 'result.json'), 'utf8'));
}

/** GET /index.html through busybox nc, from the host or (with `exec`) from inside a container. */
function get(sb: Sandbox, from: string | null, addr: string, port: number, ns?: Netns): string {
  const req = 'printf "GET /index.html HTTP/1.0\\r\\n\\r\\n"';
  if (from) return sb.run(['exec', from, 'sh', '-c', `${req} | nc -w 3 ${addr} ${port}`]).stdout;
  const r = ns ? ns.exec('busybox', ['nc', '-w', '3', addr, String(port)], { input: 'GET /index.html HTTP/1.0\r\n\r\n' }) : run('busybox', ['nc', '-w', '3', addr, String(port)], { input: 'GET /index.html HTTP/1.0\r\n\r\n' });
  return r.stdout;
}

function udp(nsPath: string | null, addr: string, port: number): string {
  const pre = nsPath ? ['nsenter', `--net=${nsPath}`, '--'] : [];
  const r = run(pre[0] ?? 'socat', [...pre.slice(1), ...(pre.length ? ['socat'] : []), '-T', '3', '-', `UDP4:${addr}:${port}`], { input: 'ping\n' });
  return r.stdout.trim();
}

/** A UDP echo in the container's network namespace (busybox has no UDP server). */
function udpServer(pid: number, port: number) {
  const p = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'socat', `UDP4-RECVFROM:${port},fork,reuseaddr`, 'SYSTEM:read l; echo udp-$l'], { stdio: 'ignore' });
  return p;
}

/** What the tests' own names still hold on the host they ran on (run in `ns` when given). */
function hostLeaks(net: Net, ns?: Netns): string[] {
  const sh = (s: string) => (ns ? ns.exec('sh', ['-c', s]).stdout : run('sh', ['-c', s]).stdout);
  const out: string[] = [];
  const ports = sh(`ip -o link show master ${net.bridge} 2>/dev/null`).trim();
  if (ports) out.push(`bridge ports: ${ports}`);
  const rules = sh('iptables-save').split('\n').filter((l) => l.includes(` ${net.name} `) || /CNI-DN-|CNI-[0-9a-f]{20,}/.test(l));
  // The reference bridge names its masquerade chains by a hash: any left is reported above.
  out.push(...rules.map((r) => `rule ${r}`));
  for (const f of filesUnder(net.dataDir)) if (!/(^|\/)(lock|last_reserved_ip\.\d+)$/.test(f)) out.push(`ipam ${f}`);
  for (const f of filesUnder(net.stateDir)) if (!/(^|\/)lock$/.test(f)) out.push(`state ${f}`);
  for (const f of filesUnder(net.pluginState)) if (f !== 'lock') out.push(`plugin state ${f}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(net.stateDir));
  out.push(...mounts.map((m) => `mount ${m.split(' ')[4]}`));
  return out;
}

function makeNet(dir: string, tag: string, plugins: unknown[]): Net {
  const net: Net = { confDir: join(dir, 'net.d'), stateDir: join(dir, 'hookstate'), name: `${tag}net`, bridge: `${tag}br`, dataDir: join(dir, 'ipam'), pluginState: join(dir, 'cni') };
  mkdirSync(net.confDir, { recursive: true });
  writeFileSync(join(net.confDir, `${net.name}.conflist`), JSON.stringify({ cniVersion: '1.0.0', name: net.name, plugins }, null, 1));
  return net;
}

function oursPlugins(tag: string, dir: string, subnet: string) {
  return [
    {
      type: 'mydocker-bridge',
      bridge: `${tag}br`,
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      stateDir: join(dir, 'cni'),
      capabilities: { portMappings: true, ips: true },
      ipam: { type: 'mydocker-ipam', subnet, dataDir: join(dir, 'ipam'), routes: [{ dst: '0.0.0.0/0' }] },
    },
  ];
}

function refPlugins(tag: string, dir: string, subnet: string) {
  return [
    {
      type: 'bridge',
      bridge: `${tag}br`,
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      capabilities: { ips: true },
      ipam: { type: 'host-local', subnet, dataDir: join(dir, 'ipam'), routes: [{ dst: '0.0.0.0/0' }] },
    },
    { type: 'portmap', capabilities: { portMappings: true } },
  ];
}

/**
 * Two containers on one network: c1 serves HTTP (and UDP, through a socat in its netns) behind
 * port maps; every path is probed; c1 is killed with -9 and `delete --force`d, c2 deleted while
 * running: both DELs run (poststop) and leave nothing. `ns` is the host namespace the runtime
 * runs in (null: this host's own). `extraHost` is a non-loopback host address to reach.
 */
function twoContainers(sb: Sandbox, net: Net, tag: string, extraHost: string, fixedIp: string, ns?: Netns, checkHook = true): Record<string, boolean> {
  const id1 = sb.track(uniqueId(`${tag}-c1`));
  const id2 = sb.track(uniqueId(`${tag}-c2`));
  // c2 comes with a fixed address and MAC. With mydocker-ipam, the address is pre-allocated
  // first, as mydocker does to write /etc/hosts before the container exists.
  const ipam = ipamConfigOf(loadNetworkList(net.name, net.confDir).list);
  if (ipam) assert.equal(allocate(ipam, id2, 'eth0', [ipToNumber(fixedIp)]).ips[0]!.address.split('/')[0], fixedIp);
  const mac = '02:42:0a:00:00:4d';
  const c1config = hooked(webServer(`hello-${tag}`), net, { 'org.mydocker.cni.ports': `${HP}:80,${HPU}:53/udp` });
  const c1 = sb.run(['create', '-b', sb.bundle(c1config), id1], { detached: true });
  assert.equal(c1.status, 0, c1.stderr);
  const c2 = sb.run(['create', '-b', sb.bundle(hooked(['sleep', '1000'], net, { 'org.mydocker.cni.ip': fixedIp, 'org.mydocker.cni.mac': mac })), id2], { detached: true });
  assert.equal(c2.status, 0, c2.stderr);
  assert.equal(sb.run(['start', id1]).status, 0);
  assert.equal(sb.run(['start', id2]).status, 0);
  const r1 = resultOf(net, id1);
  const r2 = resultOf(net, id2);
  const ip1 = r1.attachments[0].result.ips[0].address.split('/')[0];
  const ip2 = r2.attachments[0].result.ips[0].address.split('/')[0];
  const gw = r1.attachments[0].result.ips[0].gateway;
  const pid1 = sb.state(id1).pid as number;
  const pid2 = sb.state(id2).pid as number;
  const echo = udpServer(pid1, 53);
  try {
    const body = `hello-${tag}`;
    // From the host: the reference bridge leaves the container's lo down (the loopback plugin's
    // job), and a container reaches its own address through lo.
    const hostNs = ns ? ns.path : null;
    until(() => get(sb, null, ip1, 80, ns).includes(body), 'httpd in c1');
    until(() => udp(hostNs, ip1, 53) === 'udp-ping', 'the UDP echo in c1');
    const hostPing = (addr: string) => (ns ? ns.exec('busybox', ['ping', '-c', '1', '-W', '2', addr]) : run('busybox', ['ping', '-c', '1', '-W', '2', addr])).status === 0;
    return {
      'the result names the container interface and its MAC': r1.attachments[0].result.interfaces.some((i: { sandbox?: string; mac?: string }) => i.sandbox && /^([0-9a-f]{2}:){5}/.test(i.mac ?? '')),
      'c2 has its fixed address and MAC': ip2 === fixedIp && r2.attachments[0].result.interfaces.some((i: { sandbox?: string; mac?: string }) => i.sandbox && i.mac === mac),
      'c2 -> c1:80': get(sb, id2, ip1, 80).includes(body),
      'host -> c1 (ping)': hostPing(ip1),
      'host -> c2 (ping)': hostPing(ip2),
      'host -> c1:80': get(sb, null, ip1, 80, ns).includes(body),
      'host -> 127.0.0.1:port': get(sb, null, '127.0.0.1', HP, ns).includes(body),
      'host -> gateway:port': get(sb, null, gw, HP, ns).includes(body),
      'host -> another host address:port': get(sb, null, extraHost, HP, ns).includes(body),
      'host -> 127.0.0.1:port (udp)': udp(hostNs, '127.0.0.1', HPU) === 'udp-ping',
      'host -> another host address:port (udp)': udp(hostNs, extraHost, HPU) === 'udp-ping',
      'c1 -> gateway:port -> itself': get(sb, id1, gw, HP).includes(body),
      'c2 -> gateway:port -> c1': get(sb, id2, gw, HP).includes(body),
      'c2 -> gateway:port -> c1 (udp)': udp(`/proc/${pid2}/ns/net`, gw, HPU) === 'udp-ping',
      // CHECK through the hook (the reference portmap's CHECK is broken: containernetworking/plugins#819).
      'mydocker-cni-hook check': !checkHook || run(ns ? 'nsenter' : process.execPath, [...(ns ? [`--net=${ns.path}`, '--', process.execPath] : []), HOOK, 'check'], { input: JSON.stringify({ id: id1, pid: pid1, status: 'running', annotations: c1config.annotations }) }).status === 0,
      // kill -9 from outside, then delete --force: the poststop DEL still runs.
      'kill -9 + delete --force': (() => {
        process.kill(pid1, 'SIGKILL');
        until(() => sb.state(id1)?.status === 'stopped', 'c1 stopped');
        return sb.run(['delete', '--force', id1]).status === 0 && sb.run(['delete', '--force', id2]).status === 0;
      })(),
      'no state left for either container': !existsSync(join(net.stateDir, id1)) && !existsSync(join(net.stateDir, id2)),
      'the pre-allocated address went back with the DEL': !ipam || allocations(ipam).length === 0,
    };
  } finally {
    echo.kill('SIGKILL');
  }
}

describe('mydocker-cni-hook through mydocker-runc', () => {
  it('ours, on this host: containers reach each other, the host reaches them, port maps answer everywhere; DEL leaves nothing', { skip: skipSocat }, () => {
    const tag = runTag();
    const sb = new Sandbox(OURS);
    const net = makeNet(sb.dir, tag, oursPlugins(tag, sb.dir, `10.${150 + n}.1.0/24`));
    const dummy = `198.18.${200 + (n % 50)}.${(process.pid % 250) + 1}`;
    try {
      // Another address of this host, on a link of the test's own (this kernel has no dummy
      // links: one end of a veth pair does as well). Traffic to it never leaves the host.
      must('ip', ['link', 'add', `${tag}d`, 'type', 'veth', 'peer', 'name', `${tag}e`]);
      must('ip', ['addr', 'add', `${dummy}/32`, 'dev', `${tag}d`]);
      must('ip', ['link', 'set', `${tag}d`, 'up']);
      must('ip', ['link', 'set', `${tag}e`, 'up']);
      const reach = twoContainers(sb, net, tag, dummy, `10.${150 + n}.1.77`);
      for (const [path, ok] of Object.entries(reach)) assert.ok(ok, `${path}: ${JSON.stringify(reach, null, 1)}`);
      assert.deepEqual(hostLeaks(net), []);
    } finally {
      const leaks = sb.cleanup();
      run('ip', ['link', 'del', `${tag}d`]);
      run('ip', ['link', 'del', net.bridge]);
      assert.deepEqual(leaks, []);
    }
  });

  it('the reference chain (bridge + host-local + portmap) through the same glue, in a throwaway host namespace', { skip: skipRef || skipSocat }, () => {
    const tag = runTag();
    const w = new World(tag);
    const sb = new Sandbox({ name: 'mydocker-runc', argv: ['nsenter', `--net=${w.host.path}`, '--', process.execPath, CLI] } satisfies Runtime);
    const net = makeNet(sb.dir, tag, refPlugins(tag, sb.dir, '10.233.1.0/24'));
    try {
      const reach = twoContainers(sb, net, tag, w.hostAddr, '10.233.1.77', w.host, false);
      for (const [path, ok] of Object.entries(reach)) assert.ok(ok, `${path}: ${JSON.stringify(reach, null, 1)}`);
      assert.deepEqual(hostLeaks(net, w.host), []);
    } finally {
      const leaks = sb.cleanup();
      w.destroy();
      assert.deepEqual(leaks, []);
    }
  });

  for (const kind of ['ours', 'ref'] as const) {
    it(`a failing ADD fails create with the plugin's message and leaves nothing (${kind})`, { skip: kind === 'ref' && skipRef }, () => {
      const tag = runTag();
      const w = new World(tag);
      const sb = new Sandbox({ name: 'mydocker-runc', argv: ['nsenter', `--net=${w.host.path}`, '--', process.execPath, CLI] } satisfies Runtime);
      // A /30 holds one container: the second one's IPAM fails.
      const net = makeNet(sb.dir, tag, kind === 'ours' ? oursPlugins(tag, sb.dir, '10.234.1.0/30') : refPlugins(tag, sb.dir, '10.234.1.0/30'));
      try {
        const first = sb.track(uniqueId(`${tag}-a`));
        assert.equal(sb.run(['create', '-b', sb.bundle(hooked(['sleep', '1000'], net)), first], { detached: true }).status, 0);
        const before = w.snapshot();
        const second = sb.track(uniqueId(`${tag}-b`));
        const r = sb.run(['create', '-b', sb.bundle(hooked(['sleep', '1000'], net)), second], { detached: true });
        assert.equal(r.status, 1);
        const msg = kind === 'ours' ? /mydocker-cni-hook: network \w+: plugin mydocker-bridge: no free address left in network \w+: 10\.234\.1\.0\/30/ : /mydocker-cni-hook: network \w+: plugin bridge: failed to allocate for range 0: no IP addresses available in range set/;
        assert.match(r.stderr, msg);
        assert.match(r.stderr, /createRuntime hook #0/);
        assert.equal(sb.state(second), null);
        assert.ok(!existsSync(join(net.stateDir, second)), 'no hook state for the failed container');
        assert.deepEqual(w.snapshot(), before, 'the host is as before the failed create');
        assert.equal(sb.run(['delete', '--force', first]).status, 0);
        assert.deepEqual(hostLeaks(net, w.host), []);
        if (kind === 'ours') {
          // A host port already mapped: the same, for the port registry.
          const tag2 = runTag();
          const net2 = makeNet(join(sb.dir, 'n2'), tag2, oursPlugins(tag2, join(sb.dir, 'n2'), '10.234.2.0/24'));
          const ann = { 'org.mydocker.cni.ports': '8080:80' };
          const a = sb.track(uniqueId(`${tag}-pa`));
          const b = sb.track(uniqueId(`${tag}-pb`));
          assert.equal(sb.run(['create', '-b', sb.bundle(hooked(['sleep', '1000'], net2, ann)), a], { detached: true }).status, 0);
          const before2 = w.snapshot();
          const c = sb.run(['create', '-b', sb.bundle(hooked(['sleep', '1000'], net2, ann)), b], { detached: true });
          assert.equal(c.status, 1);
          assert.match(c.stderr, new RegExp(`plugin mydocker-bridge: host port 8080/tcp is already mapped by container ${a}`));
          assert.deepEqual(w.snapshot(), before2);
          assert.equal(sb.run(['delete', '--force', a]).status, 0);
          assert.deepEqual(hostLeaks(net2, w.host), []);
        }
      } finally {
        const leaks = sb.cleanup();
        w.destroy();
        assert.deepEqual(leaks, []);
      }
    });
  }

  it('20 containers created in parallel get 20 distinct addresses, and give them back', async () => {
    const tag = runTag();
    const w = new World(tag);
    const sb = new Sandbox({ name: 'mydocker-runc', argv: ['nsenter', `--net=${w.host.path}`, '--', process.execPath, CLI] } satisfies Runtime);
    const net = makeNet(sb.dir, tag, oursPlugins(tag, sb.dir, '10.235.0.0/24'));
    try {
      const before = w.snapshot();
      const ids = Array.from({ length: 20 }, (_, i) => sb.track(uniqueId(`${tag}-p${i}`)));
      const bundle = sb.bundle(hooked(['sleep', '1000'], net));
      const created = await Promise.all(ids.map((id) => sb.runAsync(['create', '-b', bundle, id])));
      created.forEach((r, i) => assert.equal(r.status, 0, `${ids[i]}: ${r.stderr}`));
      const ips = ids.map((id) => resultOf(net, id).attachments[0].result.ips[0].address);
      assert.equal(new Set(ips).size, 20, ips.join(' '));
      const deleted = await Promise.all(ids.map((id) => sb.runAsync(['delete', '--force', id])));
      deleted.forEach((r, i) => assert.equal(r.status, 0, `${ids[i]}: ${r.stderr}`));
      const after = w.snapshot();
      assert.deepEqual({ ...after, links: after.links.filter((l) => l !== net.bridge), addrs: after.addrs.filter((a) => !a.startsWith(`${net.bridge} `)) }, before);
      assert.deepEqual(hostLeaks(net, w.host), []);
    } finally {
      const leaks = sb.cleanup();
      w.destroy();
      assert.deepEqual(leaks, []);
    }
  });
});
