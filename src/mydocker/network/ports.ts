// Published ports: docker's -p/-P as concrete mappings for a start (a random free host port
// where none was given), held on the host before anything is attached (a taken host port is
// an error, and a port stays taken while its container runs), and docker's ways of showing
// them (ps PORTS, `port`, inspect's NetworkSettings.Ports).
import { closeSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KernelError } from '../../kernel/ffi.js';
import { holdInetPort } from '../../kernel/socket.js';
import type { PortMapping } from '../../network/bridge/ports.js';
import { ConflictError, InputError, MydockerError } from '../errors.js';
import type { ContainerConfig, HostConfig, PortBinding } from '../containers/record.js';

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

const ERRNO_TEXT: Record<string, string> = { EADDRINUSE: 'address already in use', EADDRNOTAVAIL: 'cannot assign requested address', EACCES: 'permission denied' };

/** Hold the port (a bound socket, listening for TCP); the fd, or the errno name when it is taken. */
function hold(m: Pick<PortMapping, 'protocol' | 'hostPort' | 'hostIP'>): number | string {
  try {
    return holdInetPort(m.protocol, m.hostIP || '0.0.0.0', m.hostPort);
  } catch (e) {
    if (e instanceof KernelError) return e.code;
    throw e;
  }
}

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    /* docker's default */
  }
  return [32768, 60999];
}

export interface HeldPorts {
  mappings: PortMapping[];
  /**
   * One socket per mapping, bound to its host port: the monitor (conmon) keeps them for the
   * container's life, so no host process can take a published port (docker's proxy and
   * podman hold them the same way). Close-on-exec; the caller closes its copies.
   */
  fds: number[];
}

export function closeAll(fds: number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      /* closed */
    }
  }
}

/**
 * The mappings of a start: `wanted` with every host port 0 replaced by a free one of the
 * ephemeral range (as docker), each checked against what this root's containers have mapped
 * and held on the host (which fails for a port another process — another root's container, a
 * host server — holds). `containerName` names the container in errors (docker's words).
 */
export function holdPorts(wanted: PortMapping[], pluginStateDir: string, containerName: string): HeldPorts {
  const held = registered(pluginStateDir);
  const out: HeldPorts = { mappings: [], fds: [] };
  const taken = (m: Pick<PortMapping, 'protocol' | 'hostPort' | 'hostIP'>) => held.some((h) => same(h.m, m)) || out.mappings.some((o) => same(o, m));
  const endpoint = `driver failed programming external connectivity on endpoint ${containerName}`;
  try {
    for (const w of wanted) {
      if (w.hostPort) {
        const other = held.find((h) => same(h.m, w));
        if (other || out.mappings.some((o) => same(o, w))) {
          throw new ConflictError(`${endpoint}: Bind for ${w.hostIP || '0.0.0.0'}:${w.hostPort} failed: port is already allocated${other?.owner ? ` (by container ${other.owner.slice(0, 12)})` : ''}`);
        }
        const fd = hold(w);
        if (typeof fd === 'string') {
          throw new ConflictError(`${endpoint}: Error starting userland proxy: listen ${w.protocol}4 ${w.hostIP || '0.0.0.0'}:${w.hostPort}: bind: ${ERRNO_TEXT[fd] ?? fd}`);
        }
        out.mappings.push(w);
        out.fds.push(fd);
        continue;
      }
      const [lo, hi] = ephemeralRange();
      const tryPort = (p: number): boolean => {
        const m = { ...w, hostPort: p };
        if (taken(m)) return false;
        const fd = hold(m);
        if (typeof fd === 'string') {
          if (fd === 'EADDRINUSE') return false;
          throw new ConflictError(`${endpoint}: listen ${w.protocol}4 ${w.hostIP || '0.0.0.0'}:${p}: bind: ${ERRNO_TEXT[fd] ?? fd}`);
        }
        out.mappings.push(m);
        out.fds.push(fd);
        return true;
      };
      // Random probes first (starts in parallel rarely pick the same), then a sweep.
      let found = false;
      for (let i = 0; i < 64 && !found; i++) found = tryPort(lo + Math.floor(Math.random() * (hi - lo + 1)));
      for (let p = lo; p <= hi && !found; p++) found = tryPort(p);
      if (!found) throw new MydockerError(`-p ${w.containerPort}/${w.protocol}: no free host port in ${lo}-${hi}`);
    }
  } catch (e) {
    closeAll(out.fds);
    throw e;
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

/** A port as docker's API lists it for ps (types.Port). */
export interface ApiPort {
  IP: string;
  PrivatePort: number;
  PublicPort: number;
  Type: string;
}

/** docker's ps PORTS column for a container: its exposed ports and its mappings. */
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
  return formatPorts(ports);
}

/** docker's DisplayablePorts (cli/command/formatter): sorted, consecutive ports grouped in ranges. */
export function formatPorts(list: ApiPort[]): string {
  const ports = [...list];
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
