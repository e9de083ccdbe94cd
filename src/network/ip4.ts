// IPv4 addresses as unsigned 32-bit numbers: parsing, formatting, subnets. Pure.

export interface Cidr {
  /** The address as written (host bits may be set: 10.1.0.1/24). */
  ip: number;
  prefix: number;
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address, or null when `s` is not a dotted-quad IPv4 address. */
export function tryParseIPv4(s: string): number | null {
  const m = DOTTED.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return null; // no octal-looking octets
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n >>> 0;
}

/** Parse an IPv4 address; `what` names the field in the error. */
export function parseIPv4(s: unknown, what: string): number {
  const n = typeof s === 'string' ? tryParseIPv4(s) : null;
  if (n === null) throw new RangeError(`${what}: ${JSON.stringify(s)} is not an IPv4 address`);
  return n;
}

export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** "10.1.0.0/24" (an address without a prefix is refused: a subnet needs its length). */
export function parseCidr(s: unknown, what: string): Cidr {
  if (typeof s !== 'string' || !s.includes('/')) throw new RangeError(`${what}: ${JSON.stringify(s)} is not an IPv4 CIDR (like 10.88.0.0/16)`);
  const [addr, len] = s.split('/') as [string, string];
  const ip = tryParseIPv4(addr);
  if (ip === null) {
    const v6 = addr.includes(':') ? ' (IPv6 is not supported)' : '';
    throw new RangeError(`${what}: ${JSON.stringify(s)} is not an IPv4 CIDR${v6}`);
  }
  if (!/^\d{1,2}$/.test(len) || Number(len) > 32) throw new RangeError(`${what}: ${JSON.stringify(s)}: prefix length must be 0 to 32`);
  return { ip, prefix: Number(len) };
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function networkOf(c: Cidr): number {
  return (c.ip & maskOf(c.prefix)) >>> 0;
}

export function broadcastOf(c: Cidr): number {
  return (networkOf(c) | ~maskOf(c.prefix)) >>> 0;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === networkOf(c);
}

export function formatCidr(ip: number, prefix: number): string {
  return `${formatIPv4(ip)}/${prefix}`;
}

/** The subnet written with its host bits cleared: 10.1.0.0/24. */
export function subnetString(c: Cidr): string {
  return formatCidr(networkOf(c), c.prefix);
}

/** Do two subnets share any address? */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const m = maskOf(p);
  return ((a.ip & m) >>> 0) === ((b.ip & m) >>> 0);
}

/** An "address/prefix" or a bare address (as CNI's `ips` capability and `IP=` allow). */
export function parseIpMaybeCidr(s: unknown, what: string): number {
  if (typeof s === 'string' && s.includes('/')) return parseCidr(s, what).ip;
  return parseIPv4(s, what);
}
