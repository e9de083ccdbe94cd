// Harness for the CNI tests: isolated "worlds" (a network namespace that plays the host, one
// that plays an outside machine wired to it, and the containers' namespaces), plugins driven
// exactly as a CNI client drives them (one process per plugin, CNI_* environment, config on
// stdin), traffic probes with busybox and socat, and leak checks by name.
//
// Everything a test makes is named after a tag unique to this process (mdk<pid><n>): other
// developers run their own tests on this machine at the same time. A world's host namespace
// takes its bridges, veths, iptables rules and sysctls with it when it is deleted, so the
// reference plugins' shared chains (CNI-HOSTPORT-*) never reach the real host.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pluginConfig, type NetworkList, type RuntimeConf } from '../../src/network/cni/chain.js';
import { cleanEnv, REPO } from './runtime.js';

export const OUR_CNI = join(REPO, 'dist/cni');
export const REF_CNI = '/usr/lib/cni';

export function haveRefPlugins(): boolean {
  return ['bridge', 'host-local', 'portmap'].every((p) => existsSync(join(REF_CNI, p)));
}
export const haveSocat = () => spawnSync('socat', ['-V']).status === 0;

let seq = 0;
/** "mdk" + this process + a counter: short enough for "<tag>br" to be a valid interface name. */
export function runTag(): string {
  return `mdk${(process.pid % 1679616).toString(36)}${(++seq).toString(36)}`;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Run {
  const r = spawnSync(cmd, args, { input: opts.input ?? '', env: opts.env ?? cleanEnv(), encoding: 'utf8', timeout: opts.timeout ?? 60_000 }) as SpawnSyncReturns<string>;
  // A command that exits without reading its input (nc refused) makes our write fail with EPIPE:
  // its exit status is the answer.
  if (r.error && !((r.error as NodeJS.ErrnoException).code === 'EPIPE' && (r.status !== null || r.signal))) throw r.error;
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function must(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export class Netns {
  readonly path: string;
  private procs: ChildProcess[] = [];
  constructor(readonly name: string) {
    must('ip', ['netns', 'add', name]);
    this.path = `/run/netns/${name}`;
    this.sh('ip link set lo up');
  }
  /** A command in this netns (nsenter: only the network namespace changes, never the mounts). */
  exec(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Run {
    return run('nsenter', [`--net=${this.path}`, '--', cmd, ...args], opts);
  }
  sh(script: string, opts: { input?: string; timeout?: number } = {}): string {
    const r = this.exec('sh', ['-c', script], opts);
    if (r.status !== 0) throw new Error(`[${this.name}] ${script}: exit ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }
  /** A long-running process in this netns (killed by destroy()). */
  background(cmd: string, args: string[]): ChildProcess {
    const p = spawn('nsenter', [`--net=${this.path}`, '--', cmd, ...args], { stdio: 'ignore', env: cleanEnv() });
    this.procs.push(p);
    return p;
  }
  destroy(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    run('ip', ['netns', 'del', this.name]);
  }
}

export interface Plugin {
  /** Directory holding the executables (CNI_PATH). */
  path: string[];
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
}

/**
 * A throwaway host: namespace `<tag>h` with an "outside" namespace `<tag>o` on a veth
 * (198.18.<n>.1 here, .2 there: the benchmarking range, never a real network), plus a temp
 * dir for configs, IPAM data and plugin state.
 */
export class World {
  readonly host: Netns;
  readonly outside: Netns;
  readonly dir: string;
  readonly hostAddr: string;
  readonly outsideAddr: string;
  private containers: Netns[] = [];

  constructor(
    readonly tag: string,
    opts: { forwardPolicy?: 'ACCEPT' | 'DROP' } = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `mydocker-${tag}-`));
    this.host = new Netns(`${tag}h`);
    this.outside = new Netns(`${tag}o`);
    const n = (seq % 200) + 20;
    this.hostAddr = `198.18.${n}.1`;
    this.outsideAddr = `198.18.${n}.2`;
    this.host.sh(
      `ip link add ${tag}x type veth peer name ${tag}y netns ${this.outside.path} && ip addr add ${this.hostAddr}/24 dev ${tag}x && ip link set ${tag}x up` +
        ` && echo 1 > /proc/sys/net/ipv4/ip_forward`,
    );
    this.outside.sh(`ip addr add ${this.outsideAddr}/24 dev ${tag}y && ip link set ${tag}y up && ip route add default via ${this.hostAddr}`);
    if (opts.forwardPolicy === 'DROP') this.host.sh('iptables -P FORWARD DROP');
  }

  container(name: string): Netns {
    const c = new Netns(`${this.tag}${name}`);
    this.containers.push(c);
    return c;
  }

  /** One plugin process, in the world's host namespace, as a CNI client runs it. */
  plugin(bin: string, call: CniCall, config: unknown, path: string[]): Run {
    const env = cleanEnv({
      CNI_COMMAND: call.command,
      CNI_CONTAINERID: call.containerId ?? '',
      CNI_NETNS: call.netns ?? '',
      CNI_IFNAME: call.ifname ?? '',
      CNI_ARGS: call.args ?? '',
      CNI_PATH: path.join(':'),
    });
    return this.host.exec(bin, [], { input: typeof config === 'string' ? config : JSON.stringify(config), env });
  }

  /** A conflist run as libcni runs it: ADD in order with prevResult, DEL in reverse. */
  chain(list: NetworkList, rt: RuntimeConf, command: 'ADD' | 'DEL' | 'CHECK', prevResult?: unknown): { ok: boolean; result?: any; error?: any; stderr: string } {
    const plugins = command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
    let prev = prevResult as any;
    for (const p of plugins) {
      const conf = pluginConfig(list, p, rt, prev);
      const args = ['IgnoreUnknown=1', ...rt.args.map(([k, v]) => `${k}=${v}`)].join(';');
      const bin = rt.path.map((d) => join(d, p.type)).find((f) => existsSync(f));
      if (!bin) throw new Error(`plugin ${p.type} not in ${rt.path.join(':')}`);
      const r = this.plugin(bin, { command, containerId: rt.containerId, netns: rt.netns, ifname: rt.ifname, args }, conf, rt.path);
      if (r.status !== 0) {
        let error: any;
        try {
          error = JSON.parse(r.stdout);
        } catch {
          error = { msg: r.stdout || r.stderr };
        }
        return { ok: false, error, stderr: r.stderr };
      }
      if (command === 'ADD') prev = JSON.parse(r.stdout);
    }
    return { ok: true, result: prev, stderr: '' };
  }

  /** The world's host: links, IPv4 addresses, the whole iptables ruleset (counters stripped). */
  snapshot(): { links: string[]; addrs: string[]; rules: string[] } {
    const links = JSON.parse(this.host.exec('ip', ['-j', 'link', 'show']).stdout) as Array<{ ifname: string }>;
    const addrs = JSON.parse(this.host.exec('ip', ['-j', '-4', 'addr', 'show']).stdout) as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>;
    return {
      links: links.map((l) => l.ifname).sort(),
      addrs: addrs.flatMap((a) => a.addr_info.map((i) => `${a.ifname} ${i.local}/${i.prefixlen}`)).sort(),
      rules: iptablesLines(this.host.exec('iptables-save', []).stdout),
    };
  }

  destroy(): void {
    for (const c of this.containers) c.destroy();
    this.outside.destroy();
    this.host.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  file(name: string, content: unknown): string {
    const p = join(this.dir, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return p;
  }
}

/** iptables-save without comments, counters and empty built-in chains: what rules exist. */
export function iptablesLines(save: string): string[] {
  return save
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, '[0:0]'))
    .filter((l) => !/^:(PREROUTING|INPUT|OUTPUT|POSTROUTING|FORWARD) ACCEPT \[0:0\]$/.test(l) && l !== 'COMMIT' && !/^\*/.test(l));
}

/** Files under `dir` (recursive, relative), for allocation leak checks. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** An HTTP GET through busybox nc from inside `ns`; the body, or '' when nothing answered. */
export function httpGet(ns: Netns, addr: string, port: number): string {
  const r = ns.exec('busybox', ['nc', '-w', '3', addr, String(port)], { input: 'GET /index.html HTTP/1.0\r\n\r\n', timeout: 10_000 });
  return r.status === 0 ? r.stdout : '';
}

/** One UDP datagram through socat from inside `ns`; the answer, or ''. */
export function udpAsk(ns: Netns, addr: string, port: number, text = 'ping'): string {
  const r = ns.exec('socat', ['-T', '3', '-', `UDP4:${addr}:${port}`], { input: `${text}\n`, timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : '';
}

/** busybox httpd serving `body` as /index.html, and a socat UDP echo ("udp:<line>"), inside `ns`. */
export function serve(ns: Netns, dir: string, tcpPort: number, udpPort: number, body: string): void {
  const www = join(dir, `www-${ns.name}`);
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), body);
  ns.background('busybox', ['httpd', '-f', '-p', String(tcpPort), '-h', www]);
  ns.background('socat', [`UDP4-RECVFROM:${udpPort},fork,reuseaddr`, 'SYSTEM:read l; echo udp-$l']);
}

/** Wait (polling, never asserting on time) until `fn` is true. */
export function until(fn: () => boolean, what: string, timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  const sab = new Int32Array(new SharedArrayBuffer(4));
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    Atomics.wait(sab, 0, 0, 50);
  }
}
