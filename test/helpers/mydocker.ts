// Harness for mydocker's integration tests: a private data root per test (so nothing a user
// has is seen or touched), the CLI run as a user runs it, podman as the behaviour control, and
// a cleanup that removes every container and then checks the host: no mount under the root,
// no monitor, no cgroup of its containers, no runtime state — even when the test failed.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteFromSave } from '../../src/network/bridge/firewall.js';
import { cleanEnv as runtimeEnv, mountsUnder, REPO, ROOTFS } from './runtime.js';

export { mountsUnder, waitFor } from './runtime.js';

/** The runtime's clean environment, without a MYDOCKER_ROOT that would point at a user's data. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = runtimeEnv(extra);
  delete env.MYDOCKER_ROOT;
  return env;
}

export const MYDOCKER = join(REPO, 'dist/mydocker.js');

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Processes whose command line mentions `needle` (conmon of a root, a stray container). */
export function processesWith(needle: string): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd && cmd.includes(needle)) out.push(`${p} ${cmd}`);
    } catch {
      /* exited */
    }
  }
  return out;
}

/** cgroup directories (any hierarchy) named after one of `ids`. */
export function cgroupsOf(ids: string[]): string[] {
  if (!ids.length) return [];
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4) return;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const n of names) {
      if (ids.includes(n)) found.push(join(dir, n));
      else walk(join(dir, n), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

/** The health checker loops (and their probes) of a data root. */
export function healthCheckers(root: string): string[] {
  return processesWith(root).filter((p) => p.includes('mydocker-health') || p.includes('container healthcheck'));
}

export class MydockerSandbox {
  readonly root: string;
  readonly dir: string;
  /** Filesystems the test mounted under the sandbox (a small tmpfs): not leaks; unmounted last. */
  private readonly ownMounts: string[] = [];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'mydocker-test-md-'));
    this.root = join(this.dir, 'root');
  }

  /** Mount a tmpfs of `size` (e.g. "12m") at `path` under the sandbox (made if missing). */
  mountTmpfs(path: string, size: string): void {
    mkdirSync(path, { recursive: true });
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', path], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount tmpfs on ${path}: ${r.stderr.trim()}`);
    this.ownMounts.push(path);
  }

  /** Run mydocker to completion (for verbs that do not leave a process holding our pipes). */
  run(args: string[], opts: { input?: string; env?: Record<string, string>; timeout?: number } = {}): Result {
    const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [MYDOCKER, '--root', this.root, ...args], {
      encoding: 'utf8',
      input: opts.input ?? '',
      env: cleanEnv(opts.env),
      timeout: opts.timeout ?? 60_000,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Run and assert success; stdout. */
  ok(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): string {
    const r = this.run(args, opts);
    if (r.status !== 0) throw new Error(`mydocker ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    return r.stdout;
  }

  /** Start mydocker in the background (a foreground run to kill, a logs -f to follow). */
  spawn(args: string[], env: Record<string, string> = {}) {
    return spawn(process.execPath, [MYDOCKER, '--root', this.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv(env) });
  }

  ids(): string[] {
    try {
      return readdirSync(join(this.root, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    } catch {
      return [];
    }
  }

  /** A container's live state as inspect reports it. */
  state(ref: string): { Status: string; ExitCode: number; Running: boolean; Pid: number } {
    return JSON.parse(this.ok(['inspect', '--format', '{{json .State}}', ref]));
  }

  /** Remove every container, then fail if anything of this root is left on the host. */
  async cleanup(): Promise<void> {
    const ids = this.ids();
    const problems: string[] = [];
    if (ids.length) {
      const r = this.run(['rm', '-f', '-v', ...ids]);
      if (r.status !== 0) problems.push(`rm -f: ${r.stderr.trim()}`);
    }
    // Health checkers (containers/health.ts) are killed by the removal itself: one still there
    // once its SIGKILL had time to land is a leak, even if it would end at its next wake-up.
    for (let i = 0; i < 20 && healthCheckers(this.root).length; i++) await new Promise((r) => setTimeout(r, 50));
    const checkers = healthCheckers(this.root);
    if (checkers.length) problems.push(`health checkers left: ${checkers.join('; ')}`);
    // conmon's cleanup command may still be finishing: give processes a moment to go.
    for (let i = 0; i < 100 && processesWith(this.root).length; i++) await new Promise((r) => setTimeout(r, 50));
    const mounts = mountsUnder(this.dir).filter((m) => !this.ownMounts.includes(m));
    const procs = processesWith(this.root);
    const cgroups = cgroupsOf(ids);
    if (mounts.length) problems.push(`mounts left: ${mounts.join(', ')}`);
    if (procs.length) problems.push(`processes left: ${procs.join('; ')}`);
    if (cgroups.length) problems.push(`cgroups left: ${cgroups.join(', ')}`);
    const rtState = join(this.root, 'run', 'runtime');
    const left = existsSync(rtState) ? readdirSync(rtState) : [];
    if (left.length) problems.push(`runtime state left: ${left.join(', ')}`);
    // conmon's links to the bundles and the exit statuses go with their containers.
    for (const sub of ['monitors', 'exits']) {
      const d = join(this.root, 'run', sub);
      const stale = existsSync(d) ? readdirSync(d) : [];
      if (stale.length) problems.push(`run/${sub} left: ${stale.join(', ')}`);
    }
    problems.push(...networkLeaks(this.root));
    // The root's bridges (its networks, the default one included) go with it.
    dropRootNetworks(this.root);
    // Last resort so one failure does not poison the next tests: unmount and kill what is ours.
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    for (const p of procs) {
      try {
        process.kill(Number(p.split(' ')[0]), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const m of this.ownMounts.reverse()) spawnSync('umount', ['-l', m]);
    if (!mountsUnder(this.dir).length) rmSync(this.dir, { recursive: true, force: true });
    if (problems.length) throw new Error(`the host is not as the test found it:\n${problems.join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Networks of a root: what its containers may have left on the host. Everything is found from
// the root's own files (its conflists name its bridges and subnets, which no other root can
// share), never by "the host must be unchanged": other developers test here at the same time.

export interface RootNetwork {
  name: string;
  bridge: string;
  subnet: string;
}

export function rootNetworks(root: string): RootNetwork[] {
  const dir = join(root, 'networks');
  if (!existsSync(dir)) return [];
  const out: RootNetwork[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.conflist')) continue;
    try {
      const c = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      out.push({ name: c.name, bridge: c.plugins[0].bridge, subnet: c.plugins[0].ipam.subnet });
    } catch {
      /* a file a test damaged on purpose */
    }
  }
  return out;
}

const ipNum = (s: string) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
export function inSubnet(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  const base = Math.floor(ipNum(net!) / size) * size;
  return ipNum(ip) >= base && ipNum(ip) < base + size;
}

/** mydocker's firewall lines (rules, chains) that mention an address of one of `subnets`. */
export function firewallLinesIn(subnets: string[]): string[] {
  if (!subnets.length) return [];
  const save = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout ?? '';
  return save
    .split('\n')
    .filter((l) => /mydocker:|MYDOCKER-/.test(l))
    .filter((l) => (l.match(/\d+\.\d+\.\d+\.\d+/g) ?? []).some((ip) => subnets.some((s) => inSubnet(ip, s))));
}

/** Files under `dir` whose name matches `re` (recursive, relative paths). */
function filesMatching(dir: string, re: RegExp, rel = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesMatching(join(dir, e.name), re, r));
    else if (re.test(e.name)) out.push(r);
  }
  return out;
}

/**
 * What a root's containers left of networking once they are all removed: veths on its bridges,
 * firewall rules for its subnets, addresses still allocated, host ports still registered,
 * attachment records, the hook's per-container state.
 */
export function networkLeaks(root: string): string[] {
  const nets = rootNetworks(root);
  const problems: string[] = [];
  for (const n of nets) {
    let ports: string[] = [];
    try {
      ports = readdirSync(`/sys/class/net/${n.bridge}/brif`);
    } catch {
      /* no bridge */
    }
    if (ports.length) problems.push(`veths left on ${n.bridge} (${n.name}): ${ports.join(', ')}`);
  }
  const rules = firewallLinesIn(nets.map((n) => n.subnet));
  if (rules.length) problems.push(`firewall rules left: ${rules.join(' | ')}`);
  const st = join(root, 'run', 'networks');
  const allocated = filesMatching(join(st, 'ipam'), /^\d+\.\d+\.\d+\.\d+$/);
  if (allocated.length) problems.push(`addresses still allocated: ${allocated.join(', ')}`);
  const ports = filesMatching(join(st, 'cni', 'ports'), /./);
  if (ports.length) problems.push(`host ports still registered: ${ports.join(', ')}`);
  const records = filesMatching(join(st, 'cni', 'attachments'), /\.json$/);
  if (records.length) problems.push(`attachment records left: ${records.join(', ')}`);
  const hook = existsSync(join(st, 'containers')) ? readdirSync(join(st, 'containers')) : [];
  if (hook.length) problems.push(`hook state left: ${hook.join(', ')}`);
  return problems;
}

/**
 * Delete what is left of a root's networks (the root is going away): firewall rules a failed
 * test left for its subnets (by their attachment tags, as the plugin's own DEL finds them),
 * then its bridges.
 */
export function dropRootNetworks(root: string): void {
  const nets = rootNetworks(root);
  const lines = firewallLinesIn(nets.map((n) => n.subnet));
  const tags = new Set(lines.flatMap((l) => [...l.matchAll(/mydocker:([0-9a-f]+) |MYDOCKER-(?:MASQ|DNAT)-([0-9a-f]+)/g)].map((m) => m[1] ?? m[2]!)));
  if (tags.size) {
    const save = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout ?? '';
    for (const t of tags) {
      const tx = deleteFromSave(save, t);
      if (tx) spawnSync('iptables-restore', ['--noflush', '--wait'], { input: tx });
    }
  }
  for (const n of nets) spawnSync('ip', ['link', 'del', n.bridge], { stdio: 'ignore' });
}

/** `it(..., withMydocker(async (md) => …))`: a sandbox, always cleaned up and checked. */
export function withMydocker(fn: (md: MydockerSandbox) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const md = new MydockerSandbox();
    let failure: unknown;
    try {
      await fn(md);
    } catch (e) {
      failure = e;
    }
    try {
      await md.cleanup();
    } catch (e) {
      if (!failure) failure = e;
    }
    if (failure) throw failure;
  };
}

// ---------------------------------------------------------------------------------------------
// podman, the behaviour control: its own root, runroot and config under a temp dir, cgroupfs,
// no network, the same busybox rootfs imported as "busybox".

export function havePodman(): boolean {
  return spawnSync('podman', ['--version']).status === 0;
}

export class Podman {
  readonly dir: string;
  /** podman's network configs: its own, never /etc/cni/net.d (which podman's CNI backend uses whatever --root says). */
  readonly netConfDir: string;
  private readonly base: string[];
  private readonly prefix: string[];

  /**
   * `netns`: run podman (and so its conmon, its runtime and its CNI plugins, with their
   * bridges and port-map chains) inside that network namespace, so nothing of its networking
   * can reach or outlive the host's.
   */
  constructor(opts: { netns?: string } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'mydocker-test-podman-'));
    this.netConfDir = join(this.dir, 'net.d');
    mkdirSync(this.netConfDir);
    this.base = [
      '--root', join(this.dir, 'root'),
      '--runroot', join(this.dir, 'run'),
      '--tmpdir', join(this.dir, 'tmp'),
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
      '--storage-driver', 'overlay',
      '--network-config-dir', this.netConfDir,
    ];
    this.prefix = opts.netns ? ['nsenter', `--net=${opts.netns}`, '--', 'podman'] : ['podman'];
    const imp = spawnSync('sh', ['-c', `tar -C ${ROOTFS} -c . | podman ${this.base.join(' ')} import - busybox`], { encoding: 'utf8' });
    if (imp.status !== 0) throw new Error(`podman import: ${imp.stderr}`);
  }

  /** A CNI network for podman: the reference bridge + host-local (its data in our dir) + portmap. */
  addNetwork(name: string, bridge: string, subnet: string): void {
    const conf = {
      cniVersion: '0.4.0',
      name,
      plugins: [
        { type: 'bridge', bridge, isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet }]], dataDir: join(this.dir, 'ipam') } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
    writeFileSync(join(this.netConfDir, `${name}.conflist`), JSON.stringify(conf));
  }

  /**
   * podman as root sets RLIMIT_NOFILE/NPROC to values above this sandbox's hard limits (no
   * CAP_SYS_RESOURCE here), which every runtime refuses: give it values that fit.
   */
  static readonly RUN_DEFAULTS = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];

  run(args: string[], input = ''): Result {
    const [cmd, ...pre] = this.prefix;
    const r = spawnSync(cmd!, [...pre, ...this.base, ...args], { encoding: 'utf8', input, env: cleanEnv(), timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  cleanup(): void {
    this.run(['rm', '-a', '-f', '-t', '0']);
    const [cmd, ...pre] = this.prefix;
    spawnSync(cmd!, [...pre, ...this.base, 'system', 'reset', '-f'], { stdio: 'ignore' });
    for (const m of mountsUnder(this.dir).reverse()) spawnSync('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
