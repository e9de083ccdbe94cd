#!/usr/bin/env node
// `make bench`, networking: ADD+DEL wall time of our CNI plugins against the reference chain
// (Debian's containernetworking-plugins: bridge + host-local + portmap) on the same network
// configuration, side by side, alternating run by run, medians.
//
// How it measures:
//   - everything runs inside a throwaway network namespace that plays the host (created here,
//     deleted at the end, on error and on SIGINT/SIGTERM): the same empty iptables ruleset for
//     both sides, and nothing of the reference portmap's shared chains on the real host;
//   - a CNI client as libcni is one: each plugin of the chain is its own process (spawnSync),
//     with the CNI_* environment and its config on stdin, ADD in order with prevResult, DEL in
//     reverse; wall time is hrtime around the chain;
//   - the hook rows run dist/mydocker-cni-hook.js add/del (one Node process each, as the runtime
//     runs a createRuntime/poststop hook) on the same two chains;
//   - two rows take our own choices apart: the firewall of one ADD+DEL as one iptables-restore
//     each vs one `iptables` process per rule, and the links/addresses/routes as rtnetlink
//     messages from one process vs one `ip` process per step;
//   - NODE_EXTRA_CA_CERTS and NODE_OPTIONS are removed from every child's environment (they cost
//     every Node start ~60 ms here and the plugins never speak TLS).
// It is a benchmark, not a test: it never fails on a time.
//
// Usage: node test/bench/cni.mjs [--runs N] [--readme]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, realpathSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = realpathSync(new URL('../..', import.meta.url).pathname);
const OUR_CNI = join(REPO, 'dist/cni');
const REF_CNI = '/usr/lib/cni';
const HOOK = join(REPO, 'dist/mydocker-cni-hook.js');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const RUNS = Math.max(3, Number(opt('runs', process.env.BENCH_RUNS ?? '20')));
const WARMUP = 3;
const INNER = argv.includes('--inner');

const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS' && k !== 'NODE_OPTIONS' && !k.startsWith('NODE_TEST')));

function sh(cmd, args, input = '') {
  const r = spawnSync(cmd, args, { input, env: ENV, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// Outer: make the throwaway host and re-run ourselves inside it.

if (!INNER) {
  if (process.getuid?.() !== 0) {
    console.error('bench (cni): needs root (network namespaces, iptables)');
    process.exit(2);
  }
  for (const [what, p] of [['dist/cni (make build)', join(OUR_CNI, 'mydocker-bridge')], ['the reference plugins (containernetworking-plugins)', join(REF_CNI, 'portmap')]]) {
    if (!existsSync(p)) {
      console.error(`bench (cni): missing ${what}: ${p}`);
      process.exit(2);
    }
  }
  const tag = `mdkb${process.pid.toString(36)}`;
  const cleanup = () => {
    for (const n of [`${tag}h`, `${tag}c`]) spawnSync('ip', ['netns', 'del', n]);
  };
  process.on('SIGINT', () => (cleanup(), process.exit(130)));
  process.on('SIGTERM', () => (cleanup(), process.exit(143)));
  let status = 1;
  try {
    sh('ip', ['netns', 'add', `${tag}h`]);
    sh('ip', ['netns', 'add', `${tag}c`]);
    sh('ip', ['-n', `${tag}h`, 'link', 'set', 'lo', 'up']);
    const r = spawnSync('nsenter', [`--net=/run/netns/${tag}h`, '--', process.execPath, new URL(import.meta.url).pathname, '--inner', '--tag', tag, ...argv], { stdio: 'inherit', env: ENV });
    status = r.status ?? 1;
  } finally {
    cleanup();
  }
  process.exit(status);
}

// ---------------------------------------------------------------------------------------------
// Inner: in the throwaway host.

const tag = opt('tag', 'mdkb');
const CNETNS = `/run/netns/${tag}c`;
const dir = mkdtempSync(join(tmpdir(), `mydocker-${tag}-`));

function conflist(kind) {
  const bridge = {
    bridge: `${tag}${kind === 'ref' ? 'r' : 'o'}`,
    isGateway: true,
    ipMasq: true,
    hairpinMode: true,
    ipam: { type: 'host-local', subnet: kind === 'ref' ? '10.240.1.0/24' : '10.240.2.0/24', dataDir: join(dir, `ipam-${kind}`), routes: [{ dst: '0.0.0.0/0' }] },
  };
  if (kind === 'ref') return { cniVersion: '1.0.0', name: `${tag}ref`, plugins: [{ type: 'bridge', ...bridge }, { type: 'portmap', capabilities: { portMappings: true } }] };
  return {
    cniVersion: '1.0.0',
    name: `${tag}ours`,
    plugins: [{ type: 'mydocker-bridge', ...bridge, ipam: { ...bridge.ipam, type: 'mydocker-ipam' }, stateDir: join(dir, 'state'), capabilities: { portMappings: true } }],
  };
}
const PORTS = [
  { hostPort: 18080, containerPort: 80, protocol: 'tcp' },
  { hostPort: 15353, containerPort: 53, protocol: 'udp' },
];

/** One plugin process. */
function plugin(path, type, command, conf, extraEnv = {}) {
  const env = { ...ENV, CNI_COMMAND: command, CNI_CONTAINERID: 'bench', CNI_NETNS: CNETNS, CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1', CNI_PATH: path, ...extraEnv };
  const r = spawnSync(join(path.split(':')[0], type), [], { input: JSON.stringify(conf), env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${type} ${command}: ${r.stdout || r.stderr}`);
  return r.stdout ? JSON.parse(r.stdout) : undefined;
}

/** A chain, as libcni runs it. */
function chain(list, path, command, prev, extraEnv) {
  const plugins = command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
  let result = prev;
  for (const p of plugins) {
    const conf = { ...p, name: list.name, cniVersion: list.cniVersion };
    if (command === 'DEL' ? prev : result) conf.prevResult = command === 'DEL' ? prev : result;
    if (p.capabilities?.portMappings) conf.runtimeConfig = { portMappings: PORTS };
    const out = plugin(path, p.type, command, conf, extraEnv);
    if (command === 'ADD') result = out;
  }
  return result;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** ADD then DEL of one container: [add ms, del ms]. */
function addDel(kind, extraEnv = {}) {
  const list = conflist(kind);
  const path = kind === 'ref' ? REF_CNI : OUR_CNI;
  const t0 = now();
  const res = chain(list, path, 'ADD', undefined, extraEnv);
  const t1 = now();
  chain(list, path, 'DEL', res, extraEnv);
  return [t1 - t0, now() - t1];
}

// The hook: an OCI state whose pid lives in the container netns (a sleep there).
const holder = spawn('nsenter', [`--net=${CNETNS}`, '--', 'sleep', '100000'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 100));
const confDir = join(dir, 'net.d');
mkdirSync(confDir);
for (const kind of ['ref', 'ours']) writeFileSync(join(confDir, `${conflist(kind).name}.conflist`), JSON.stringify(conflist(kind)));
function hook(kind) {
  const state = {
    ociVersion: '1.2.0',
    id: `bench-${kind}`,
    status: 'creating',
    pid: holder.pid,
    bundle: dir,
    annotations: {
      'org.mydocker.cni.network': conflist(kind).name,
      'org.mydocker.cni.confdir': confDir,
      'org.mydocker.cni.statedir': join(dir, 'hook'),
      'org.mydocker.cni.path': `${OUR_CNI}:${REF_CNI}`,
      'org.mydocker.cni.ports': '18080:80,15353:53/udp',
    },
  };
  const run = (mode) => {
    const t = now();
    const r = spawnSync(process.execPath, [HOOK, mode], { input: JSON.stringify(mode === 'del' ? { ...state, status: 'stopped', pid: 0 } : state), env: { PATH: ENV.PATH }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`hook ${mode} (${kind}): ${r.stderr}`);
    return now() - t;
  };
  return [run('add'), run('del')];
}

// Our firewall as one iptables-restore per ADD/DEL, against one iptables process per rule.
const { addTransaction, delTransaction } = await import(join(REPO, 'build/src/network/bridge/firewall.js'));
const spec = { tag: 'benchbench0', network: 'bench', containerId: 'bench', ifname: 'eth0', ip: '10.240.9.2', subnet: '10.240.9.0/24', ipMasq: true, ports: PORTS.map((p) => ({ ...p, hostIP: '' })) };
function words(line) {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}
function perRule(text) {
  let table = '';
  const cmds = [];
  for (const l of text.split('\n')) {
    if (l.startsWith('*')) table = l.slice(1);
    else if (l.startsWith(':')) cmds.push(['-t', table, '-N', l.slice(1).split(' ')[0]]);
    else if (/^-[ADIFX] /.test(l)) cmds.push(['-t', table, ...words(l)]);
  }
  return cmds;
}
function firewall(how) {
  const t = now();
  if (how === 'restore') {
    sh('iptables-restore', ['--noflush', '--wait'], addTransaction(spec));
    sh('iptables-restore', ['--noflush', '--wait'], delTransaction(spec));
  } else {
    for (const c of [...perRule(addTransaction(spec)), ...perRule(delTransaction(spec))]) sh('iptables', ['--wait', ...c]);
  }
  return now() - t;
}

// Links, addresses and routes: rtnetlink from this process, or one `ip` per step.
const { Rtnl, randomMac } = await import(join(REPO, 'build/src/network/rtnetlink.js'));
const { openNetns, rtnlIn } = await import(join(REPO, 'build/src/network/netns.js'));
const BR = `${tag}l`;
sh('ip', ['link', 'add', BR, 'type', 'bridge']);
sh('ip', ['link', 'set', BR, 'up']);
function links(how) {
  const t = now();
  if (how === 'ip') {
    sh('ip', ['link', 'add', `${tag}v`, 'master', BR, 'up', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', CNETNS]);
    sh('ip', ['-n', `${tag}c`, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', `${tag}c`, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', `${tag}c`, 'addr', 'add', '10.240.8.2/24', 'dev', 'eth0']);
    sh('ip', ['-n', `${tag}c`, 'route', 'add', 'default', 'via', '10.240.8.1']);
    sh('ip', ['link', 'del', `${tag}v`]);
  } else {
    const host = Rtnl.open();
    const fd = openNetns(CNETNS);
    const ctr = rtnlIn(fd, 'bench');
    const br = host.link(BR);
    host.nl.ack(host.vethRequest({ hostName: `${tag}v`, peerName: 'eth0', peerNsFd: fd, master: br.index }));
    const eth0 = ctr.link('eth0');
    ctr.nl.batch([
      ctr.upRequest('lo'),
      ctr.upRequest('eth0'),
      ctr.addressRequest(eth0.index, 0x0af00802, 24, 0x0af008ff, 'eth0'),
      ctr.routeRequest({ dst: 0, prefix: 0, gateway: 0x0af00801, oif: eth0.index }),
    ]);
    host.deleteLink(`${tag}v`);
    ctr.close();
    host.close();
    closeSync(fd);
  }
  return now() - t;
}

const samples = { ref: [], ours: [], oursSpawned: [], hookRef: [], hookOurs: [], fwRestore: [], fwRules: [], lnNetlink: [], lnIp: [] };
try {
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const s = {
      ref: addDel('ref'),
      ours: addDel('ours'),
      oursSpawned: addDel('ours', { MYDOCKER_CNI_INPROCESS: '0' }),
      hookRef: hook('ref'),
      hookOurs: hook('ours'),
      fwRestore: firewall('restore'),
      fwRules: firewall('rules'),
      lnNetlink: links('netlink'),
      lnIp: links('ip'),
    };
    if (i >= WARMUP) for (const [k, v] of Object.entries(s)) samples[k].push(v);
  }
} finally {
  holder.kill('SIGKILL');
  spawnSync('ip', ['link', 'del', BR]);
  rmSync(dir, { recursive: true, force: true });
}

const m = (k, part) => median(samples[k].map((x) => (Array.isArray(x) ? (part === undefined ? x[0] + x[1] : x[part]) : x)));
const ms = (x) => `${x.toFixed(1)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const nRules = perRule(addTransaction(spec)).length + perRule(delTransaction(spec)).length;
const rows = [
  ['CNI ADD+DEL, bridge + IPAM + 2 port maps: wall', ms(m('ref')), ms(m('ours')), ratio(m('ours'), m('ref'))],
  ['  ADD', ms(m('ref', 0)), ms(m('ours', 0)), ratio(m('ours', 0), m('ref', 0))],
  ['  DEL', ms(m('ref', 1)), ms(m('ours', 1)), ratio(m('ours', 1), m('ref', 1))],
  ['  ours with mydocker-ipam spawned, not in-process', '', ms(m('oursSpawned')), ratio(m('oursSpawned'), m('ref'))],
  ['hook add+del (mydocker-cni-hook), same chains', ms(m('hookRef')), ms(m('hookOurs')), ratio(m('hookOurs'), m('hookRef'))],
  [`firewall of one ADD+DEL: ${nRules} iptables runs (left) vs 2 iptables-restore`, ms(m('fwRules')), ms(m('fwRestore')), ratio(m('fwRestore'), m('fwRules'))],
  ['veth, lo, address, route, veth gone: 6 `ip` runs (left) vs rtnetlink', ms(m('lnIp')), ms(m('lnNetlink')), ratio(m('lnNetlink'), m('lnIp'))],
];
const head = ['figure', 'reference', 'ours', 'ours/ref'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
const table = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
const refVersion = spawnSync(join(REF_CNI, 'bridge'), [], { env: { CNI_COMMAND: 'VERSION' }, encoding: 'utf8' }).stdout.trim();
const pkg = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'containernetworking-plugins'], { encoding: 'utf8' }).stdout.trim();
const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const info = `${cpus()[0]?.model.trim().split(' ').slice(0, 2).join(' ')}, ${cpus().length} cores, Linux ${release()}, node ${process.version}, containernetworking-plugins ${pkg || '?'} (${refVersion ? 'CNI 1.0.0' : '?'})`;
console.log(`\nCNI: ours (mydocker-bridge + mydocker-ipam) vs the reference chain (bridge + host-local + portmap), medians of ${RUNS} runs, ${when}, ${info}\n`);
console.log(table);
console.log(`\nEach ADD+DEL: one container on a bridge with isGateway, ipMasq, hairpinMode, a TCP and a UDP port map; plugins spawned one by one as libcni does, inside a throwaway host network namespace.`);

if (argv.includes('--readme')) {
  const path = join(REPO, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const block = `<!-- cni-bench -->\nLatest figures (\`make bench\`, test/bench/cni.mjs; ${when}, medians of ${RUNS} runs, NODE_EXTRA_CA_CERTS unset) on ${info}:\n\n${table}\n<!-- /cni-bench -->`;
  const re = /<!-- cni-bench -->[\s\S]*?<!-- \/cni-bench -->/;
  if (re.test(readme)) writeFileSync(path, readme.replace(re, block));
  else console.error('bench (cni): README.md has no <!-- cni-bench --> block; not written');
}
