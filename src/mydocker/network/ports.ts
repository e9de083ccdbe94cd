// Published ports: docker's -p/-P as concrete mappings for a start (a random free host port
// where none was given), the checks that make a taken host port an error before anything is
// attached, and docker's ways of showing them (ps PORTS, `port`, inspect's NetworkSettings.Ports).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { PortMapping } from '../../network/bridge/ports.js';
import { ConflictError, InputError, MydockerError } from '../errors.js';
import type { ContainerConfig, HostConfig, PortBinding } from '../containers/record.js';

const require = createRequire(import.meta.url);

/** "80/tcp" → [80, 'tcp'] (a published or exposed port's key). */
export function parsePortKey(key: string): { port: number; proto: 'tcp' | 'udp' } {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m) throw new InputError(`port ${JSON.stringify(key)}: want PORT[/tcp|udp]`);
  const port = Number(m[1]);
  if (port < 1 || port > 65535) throw new InputError(`port ${key}: must be 1 to 65535`);
  if (m[2] === 'sctp') throw new InputError(`port ${key}: sctp is not supported (tcp or udp)`);
  return { port, proto: (m[2] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

/** What the user asked to publish: -p bindings, and with -P every exposed port not bound. */
export function wantedPorts(config: ContainerConfig, hc: HostConfig): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, bindings] of Object.entries(hc.PortBindings)) {
    const { port, proto } = parsePortKey(key);
    for (const b of bindings) out.push({ containerPort: port, protocol: proto, hostIP: b.HostIp === '0.0.0.0' ? '' : b.HostIp, hostPort: b.HostPort ? Number(b.HostPort) : 0 });
  }
  if (hc.PublishAllPorts) {
    for (const key of Object.keys(config.ExposedPorts ?? {})) {
      if (hc.PortBindings[key]?.length) continue;
      const { port, proto } = parsePortKey(key);
      out.push({ containerPort: port, protocol: proto, hostIP: '', hostPort: 0 });
    }
  }
  return out;
}

const same = (a: PortMapping, b: Pick<PortMapping, 'protocol' | 'hostPort' | 'hostIP'>) =>
  a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIP === b.hostIP || a.hostIP === '' || b.hostIP === '');

/** The host ports the bridge plugin has handed out in this data root (its registry's file names). */
function registered(pluginStateDir: string): Array<{ m: PortMapping; owner: string }> {
  const dir = join(pluginStateDir, 'ports');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ m: PortMapping; owner: string }> = [];
  for (const n of names) {
    const m = /^(tcp|udp)-(\d+)-([\d.]+)$/.exec(n);
    if (!m) continue;
    let owner = '';
    try {
      owner = readFileSync(join(dir, n), 'utf8').split('\n')[1] ?? '';
    } catch {
      /* released meanwhile */
    }
    out.push({ m: { protocol: m[1] as 'tcp' | 'udp', hostPort: Number(m[2]), containerPort: 0, hostIP: m[3] === '0.0.0.0' ? '' : m[3]! }, owner });
  }
  return out;
}

/** Can a host process bind the port? (null: yes; else the errno, EADDRINUSE for a listener). */
function bindProbe(m: Pick<PortMapping, 'protocol' | 'hostPort' | 'hostIP'>): Promise<string | null> {
  const host = m.hostIP || '0.0.0.0';
  // Loaded on first use (only a start that publishes ports needs sockets); require, since
  // mydocker's bundle runs from a code cache where import() of a builtin is not available.
  const { createSocket } = require('node:dgram') as typeof import('node:dgram');
  const { createServer } = require('node:net') as typeof import('node:net');
  return new Promise((resolve) => {
    if (m.protocol === 'udp') {
      const s = createSocket({ type: 'udp4', reuseAddr: false });
      s.once('error', (e: NodeJS.ErrnoException) => {
        s.close();
        resolve(e.code ?? 'error');
      });
      s.bind({ port: m.hostPort, address: host, exclusive: true }, () => s.close(() => resolve(null)));
      return;
    }
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    srv.listen({ port: m.hostPort, host, exclusive: true }, () => srv.close(() => resolve(null)));
  });
}

const ERRNO_TEXT: Record<string, string> = { EADDRINUSE: 'address already in use', EADDRNOTAVAIL: 'cannot assign requested address', EACCES: 'permission denied' };

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    /* docker's default */
  }
  return [32768, 60999];
}

/**
 * The mappings of a start: `wanted` with every host port 0 replaced by a free one of the
 * ephemeral range (as docker), each checked against what this root's containers hold and
 * against a bind on the host (a process listening there). `containerName` names the
 * container in errors. Throws ConflictError with docker's words.
 */
export async function resolvePorts(wanted: PortMapping[], pluginStateDir: string, containerName: string): Promise<PortMapping[]> {
  const held = registered(pluginStateDir);
  const out: PortMapping[] = [];
  const taken = (m: Pick<PortMapping, 'protocol' | 'hostPort' | 'hostIP'>) => held.some((h) => same(h.m, m)) || out.some((o) => same(o, m));
  for (const w of wanted) {
    if (w.hostPort) {
      const mine = out.find((o) => same(o, w));
      const other = held.find((h) => same(h.m, w));
      if (mine || other) {
        throw new ConflictError(`driver failed programming external connectivity on endpoint ${containerName}: Bind for ${w.hostIP || '0.0.0.0'}:${w.hostPort} failed: port is already allocated${other?.owner ? ` (by container ${other.owner.slice(0, 12)})` : ''}`);
      }
      const err = await bindProbe(w);
      if (err) {
        throw new ConflictError(
          `driver failed programming external connectivity on endpoint ${containerName}: Error starting userland proxy: listen ${w.protocol}4 ${w.hostIP || '0.0.0.0'}:${w.hostPort}: bind: ${ERRNO_TEXT[err] ?? err}`,
        );
      }
      out.push(w);
      continue;
    }
    const [lo, hi] = ephemeralRange();
    let found = 0;
    // Random probes first (parallel starts rarely pick the same), then a sweep.
    for (let i = 0; i < 64 && !found; i++) {
      const p = lo + Math.floor(Math.random() * (hi - lo + 1));
      if (!taken({ ...w, hostPort: p }) && (await bindProbe({ ...w, hostPort: p })) === null) found = p;
    }
    for (let p = lo; p <= hi && !found; p++) {
      if (!taken({ ...w, hostPort: p }) && (await bindProbe({ ...w, hostPort: p })) === null) found = p;
    }
    if (!found) throw new MydockerError(`-p ${w.containerPort}/${w.protocol}: no free host port in ${lo}-${hi}`);
    out.push({ ...w, hostPort: found });
  }
  return out;
}

/** One mapping as the hook's annotation takes it: "[hostIP:]hostPort:containerPort/proto". */
export function portSpec(m: PortMapping): string {
  return `${m.hostIP ? `${m.hostIP}:` : ''}${m.hostPort}:${m.containerPort}/${m.protocol}`;
}

/** inspect's NetworkSettings.Ports: every exposed or published port, with its bindings or null. */
export function networkSettingsPorts(config: ContainerConfig, mappings: PortMapping[]): Record<string, PortBinding[] | null> {
  const out: Record<string, PortBinding[] | null> = {};
  for (const key of Object.keys(config.ExposedPorts ?? {})) out[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const m of mappings) (out[`${m.containerPort}/${m.protocol}`] ??= []).push({ HostIp: m.hostIP || '0.0.0.0', HostPort: String(m.hostPort) });
  return out;
}

interface ApiPort {
  IP: string;
  PrivatePort: number;
  PublicPort: number;
  Type: string;
}

/** docker's ps PORTS column (cli/command/formatter DisplayablePorts): ranges grouped, sorted. */
export function displayablePorts(config: ContainerConfig, mappings: PortMapping[]): string {
  const ports: ApiPort[] = [];
  const published = new Set(mappings.map((m) => `${m.containerPort}/${m.protocol}`));
  for (const key of Object.keys(config.ExposedPorts ?? {})) {
    const k = key.includes('/') ? key : `${key}/tcp`;
    if (published.has(k)) continue;
    const [p, t] = k.split('/');
    ports.push({ IP: '', PrivatePort: Number(p), PublicPort: 0, Type: t! });
  }
  for (const m of mappings) ports.push({ IP: m.hostIP || '0.0.0.0', PrivatePort: m.containerPort, PublicPort: m.hostPort, Type: m.protocol });
  ports.sort((a, b) => a.PrivatePort - b.PrivatePort || (a.IP < b.IP ? -1 : a.IP > b.IP ? 1 : 0) || a.PublicPort - b.PublicPort || (a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0));
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const form = (key: string, first: number, last: number) => {
    const [a, b] = key.split('/');
    const ip = b === undefined ? '' : a!;
    const type = b === undefined ? a! : b;
    let g = first === last ? String(first) : `${first}-${last}`;
    if (ip) g = `${ip}:${g}->${g}`;
    return `${g}/${type}`;
  };
  for (const p of ports) {
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== p.PrivatePort) {
        hostMappings.push(`${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
      order.push(key);
    } else if (p.PrivatePort === g.last + 1) {
      g.last = p.PrivatePort;
    } else {
      result.push(form(key, g.first, g.last));
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    }
  }
  for (const k of order) {
    const g = groups.get(k)!;
    result.push(form(k, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}
