// Port mappings: CNI's `portMappings` capability ({hostPort, containerPort, protocol, hostIP}),
// docker's `[hostIP:]hostPort:containerPort[/proto]` strings, and the host-wide registry that
// makes a host port already mapped an error instead of a silent second DNAT rule.
//
// Registry: <stateDir>/ports/<proto>-<port>-<hostIP or 0.0.0.0>, one file per mapping, whose
// content is "<tag>\n<containerId>\n" (the attachment holding it). Checks and claims happen
// under <stateDir>/lock. Two mappings conflict when protocol and port are equal and their host
// addresses are equal or either is the wildcard.
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from '../lockfile.js';
import { CniError, ErrCode } from '../cni/types.js';
import { formatIPv4, tryParseIPv4 } from '../ip4.js';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** '' for every host address. */
  hostIP: string;
}

function port(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw new RangeError(`${what}: ${JSON.stringify(v)} is not a port (1-65535)`);
  return n;
}

function protocol(v: unknown, what: string): 'tcp' | 'udp' {
  const p = v === undefined || v === '' ? 'tcp' : typeof v === 'string' ? v.toLowerCase() : v;
  if (p !== 'tcp' && p !== 'udp') throw new RangeError(`${what}: ${JSON.stringify(v)} is not a supported protocol (tcp or udp)`);
  return p;
}

function hostIP(v: unknown, what: string): string {
  if (v === undefined || v === '' || v === '0.0.0.0') return '';
  const ip = typeof v === 'string' ? tryParseIPv4(v) : null;
  if (ip === null) {
    const v6 = typeof v === 'string' && v.includes(':') ? ' (IPv6 is not supported)' : '';
    throw new RangeError(`${what}: ${JSON.stringify(v)} is not an IPv4 address${v6}`);
  }
  return formatIPv4(ip);
}

/** CNI's runtimeConfig.portMappings, checked (RangeError naming the entry). */
export function parsePortMappings(raw: unknown, what = 'runtimeConfig.portMappings'): PortMapping[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new RangeError(`${what}: must be an array`);
  const out = raw.map((e: Record<string, unknown>, i) => {
    const w = `${what}[${i}]`;
    if (!e || typeof e !== 'object') throw new RangeError(`${w}: must be an object`);
    return {
      hostPort: port(e.hostPort, `${w}.hostPort`),
      containerPort: port(e.containerPort, `${w}.containerPort`),
      protocol: protocol(e.protocol, `${w}.protocol`),
      hostIP: hostIP(e.hostIP, `${w}.hostIP`),
    };
  });
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < i; j++) {
      if (conflicts(out[i]!, out[j]!)) throw new RangeError(`${what}[${i}]: ${describe(out[i]!)} overlaps ${what}[${j}] (${describe(out[j]!)})`);
    }
  }
  return out;
}

/** docker's `-p`: "[hostIP:]hostPort:containerPort[/tcp|udp]". */
export function parsePortSpec(spec: string, what = 'port'): PortMapping {
  const m = /^(?:(.+):)?([^:/]+):([^:/]+)(?:\/([A-Za-z]+))?$/.exec(spec.trim());
  if (!m) throw new RangeError(`${what} ${JSON.stringify(spec)}: expected [hostIP:]hostPort:containerPort[/tcp|udp]`);
  return {
    hostIP: hostIP(m[1], `${what} ${JSON.stringify(spec)}: host address`),
    hostPort: port(m[2], `${what} ${JSON.stringify(spec)}: host port`),
    containerPort: port(m[3], `${what} ${JSON.stringify(spec)}: container port`),
    protocol: protocol(m[4], `${what} ${JSON.stringify(spec)}: protocol`),
  };
}

export function describe(p: PortMapping): string {
  return `${p.hostIP || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`;
}

export function conflicts(a: PortMapping, b: PortMapping): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIP === b.hostIP || a.hostIP === '' || b.hostIP === '');
}

const fileName = (p: PortMapping) => `${p.protocol}-${p.hostPort}-${p.hostIP || '0.0.0.0'}`;

function fromFileName(name: string): PortMapping | null {
  const m = /^(tcp|udp)-(\d+)-([\d.]+)$/.exec(name);
  if (!m) return null;
  return { protocol: m[1] as 'tcp' | 'udp', hostPort: Number(m[2]), containerPort: 0, hostIP: m[3] === '0.0.0.0' ? '' : m[3]! };
}

/** Run `fn` holding <stateDir>/lock (the plugin's host-wide lock). */
export function withStateLock<T>(stateDir: string, fn: () => T): T {
  return withLock(join(stateDir, 'lock'), fn);
}

export class PortRegistry {
  readonly dir: string;
  constructor(stateDir: string) {
    this.dir = join(stateDir, 'ports');
  }

  /** Claim `maps` for `tag` (call under the state lock). Mappings `tag` already holds are kept. */
  claim(tag: string, containerId: string, maps: PortMapping[]): void {
    this.sweepTemps();
    if (!maps.length) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const held = readdirSync(this.dir);
    for (const m of maps) {
      for (const name of held) {
        const other = fromFileName(name);
        if (!other || !conflicts(m, other)) continue;
        const owner = this.owner(name);
        if (owner?.tag === tag) continue;
        const who = owner ? ` by container ${owner.containerId}` : '';
        throw new CniError(ErrCode.PortConflict, `host port ${m.hostPort}/${m.protocol}${m.hostIP ? ` on ${m.hostIP}` : ''} is already mapped${who} (${describe({ ...other, containerPort: m.containerPort })})`);
      }
    }
    const tmp = join(this.dir, `.tmp-${process.pid}`);
    const made: string[] = [];
    try {
      for (const m of maps) {
        writeFileSync(tmp, `${tag}\n${containerId}\n`, { mode: 0o600 });
        try {
          linkSync(tmp, join(this.dir, fileName(m)));
          made.push(fileName(m));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || this.owner(fileName(m))?.tag !== tag) throw e;
        } finally {
          unlinkSync(tmp);
        }
      }
    } catch (e) {
      for (const n of made) rmSync(join(this.dir, n), { force: true });
      throw e;
    }
  }

  /** Give back what `tag` holds of `maps` (call under the state lock). */
  release(tag: string, maps: PortMapping[]): void {
    this.sweepTemps();
    for (const m of maps) {
      if (this.owner(fileName(m))?.tag === tag) rmSync(join(this.dir, fileName(m)), { force: true });
    }
  }

  /**
   * A claim writes `.tmp-<pid>` and links it into place: a plugin killed in between leaves the
   * temp file. Under the state lock no claim is running, so every temp file is such a leftover.
   */
  private sweepTemps(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return; // no port was ever mapped here
    }
    for (const n of names) if (n.startsWith('.tmp-')) rmSync(join(this.dir, n), { force: true });
  }

  private owner(name: string): { tag: string; containerId: string } | null {
    try {
      const [tag, containerId] = readFileSync(join(this.dir, name), 'utf8').split('\n');
      return tag ? { tag, containerId: containerId ?? '' } : null;
    } catch {
      return null;
    }
  }
}
