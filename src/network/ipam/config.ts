// mydocker-ipam's configuration: host-local's keys, IPv4 only.
//
//   "ipam": {
//     "type": "mydocker-ipam",
//     "subnet": "10.88.0.0/16",            one range, or "ranges": [[{subnet, rangeStart, ...}], ...]
//     "rangeStart": "10.88.1.2",           optional, default: the subnet's first address
//     "rangeEnd": "10.88.1.254",           optional, default: the subnet's last address but one
//     "gateway": "10.88.0.1",              optional, default: the subnet's first address
//     "routes": [{ "dst": "0.0.0.0/0" }],  optional, copied to the result
//     "dataDir": "/run/mydocker-cni/ipam", optional (where allocations live, one directory per network)
//     "resolvConf": "/etc/resolv.conf"     optional, its nameservers/search/options go to the result's dns
//   }
//
// Each range set gives the container one address. The network and broadcast addresses and the
// gateway are never handed out. Requested addresses come from CNI_ARGS `IP=a[,b]`,
// `args.cni.ips` and `runtimeConfig.ips` (the "ips" capability), as host-local reads them.
import { readFileSync } from 'node:fs';
import { CniError, type CniDNS, type CniRoute, ErrCode, NETWORK_NAME_RE, parseCniArgs } from '../cni/types.js';
import { broadcastOf, contains, type Cidr, formatCidr, networkOf, overlaps, parseCidr, parseIPv4, parseIpMaybeCidr, subnetString } from '../ip4.js';

export const DEFAULT_DATA_DIR = '/run/mydocker-cni/ipam';

export interface IpamRange {
  subnet: Cidr;
  /** First and last address that may be handed out (inclusive). */
  start: number;
  end: number;
  gateway: number;
}

export interface IpamConfig {
  /** The network's name: its allocations live in <dataDir>/<network>. */
  network: string;
  /** One address per range set; a set is tried range by range. */
  rangeSets: IpamRange[][];
  routes: CniRoute[];
  dataDir: string;
  dns: CniDNS;
}

function invalid(msg: string): never {
  throw new CniError(ErrCode.InvalidConfig, msg);
}

function parseRange(raw: Record<string, unknown>, where: string): IpamRange {
  let subnet: Cidr;
  try {
    subnet = parseCidr(raw.subnet, `${where}.subnet`);
  } catch (e) {
    return invalid((e as Error).message);
  }
  if (subnet.prefix > 30) invalid(`${where}.subnet: ${subnetString(subnet)} is too small (at most /30: a network, a gateway, a container, a broadcast address)`);
  const net = networkOf(subnet);
  const bcast = broadcastOf(subnet);
  const addr = (key: string, dflt: number): number => {
    if (raw[key] === undefined || raw[key] === '') return dflt;
    let ip: number;
    try {
      ip = parseIPv4(raw[key], `${where}.${key}`);
    } catch (e) {
      return invalid((e as Error).message);
    }
    if (!contains(subnet, ip)) invalid(`${where}.${key}: ${raw[key]} is outside the subnet ${subnetString(subnet)}`);
    return ip;
  };
  const range: IpamRange = {
    subnet: { ip: net, prefix: subnet.prefix },
    start: addr('rangeStart', net + 1),
    end: addr('rangeEnd', bcast - 1),
    gateway: addr('gateway', net + 1),
  };
  if (range.start > range.end) invalid(`${where}: rangeStart ${raw.rangeStart ?? ''} is after rangeEnd ${raw.rangeEnd ?? ''}`);
  return range;
}

/** Parse the `ipam` section of a network config (`netconf` is the whole config: its name is needed). */
export function parseIpamConfig(netconf: Record<string, unknown>): IpamConfig {
  const network = netconf.name;
  if (typeof network !== 'string' || !NETWORK_NAME_RE.test(network)) {
    invalid(`name: ${JSON.stringify(network)} is not a valid network name (letters, digits, "_", "." and "-")`);
  }
  const ipam = netconf.ipam as Record<string, unknown> | undefined;
  if (!ipam || typeof ipam !== 'object') invalid('ipam: missing');
  let rangeSets: IpamRange[][];
  if (ipam.ranges !== undefined) {
    if (ipam.subnet !== undefined) invalid('ipam: give either "subnet" or "ranges", not both');
    if (!Array.isArray(ipam.ranges) || ipam.ranges.length === 0) invalid('ipam.ranges: must be a non-empty array of range sets');
    rangeSets = ipam.ranges.map((set: unknown, i: number) => {
      if (!Array.isArray(set) || set.length === 0) invalid(`ipam.ranges[${i}]: must be a non-empty array of ranges`);
      return set.map((r: unknown, j: number) => {
        if (!r || typeof r !== 'object') invalid(`ipam.ranges[${i}][${j}]: must be an object`);
        return parseRange(r as Record<string, unknown>, `ipam.ranges[${i}][${j}]`);
      });
    });
  } else if (ipam.subnet !== undefined) {
    rangeSets = [[parseRange(ipam, 'ipam')]];
  } else {
    return invalid('ipam: needs "subnet" (like "10.88.0.0/16") or "ranges"');
  }
  // No address may belong to two ranges.
  const all = rangeSets.flatMap((set, i) => set.map((r, j) => ({ r, where: `ipam.ranges[${i}][${j}]` })));
  for (let a = 0; a < all.length; a++) {
    for (let b = a + 1; b < all.length; b++) {
      const x = all[a]!.r;
      const y = all[b]!.r;
      if (overlaps(x.subnet, y.subnet) && x.start <= y.end && y.start <= x.end) {
        invalid(`${all[b]!.where}: overlaps ${all[a]!.where}`);
      }
    }
  }
  const routes: CniRoute[] = [];
  if (ipam.routes !== undefined) {
    if (!Array.isArray(ipam.routes)) invalid('ipam.routes: must be an array');
    ipam.routes.forEach((r: unknown, i: number) => {
      const route = r as Record<string, unknown>;
      try {
        const dst = parseCidr(route?.dst, `ipam.routes[${i}].dst`);
        routes.push({ dst: formatCidr(networkOf(dst), dst.prefix), ...(route.gw !== undefined ? { gw: formatIp(parseIPv4(route.gw, `ipam.routes[${i}].gw`)) } : {}) });
      } catch (e) {
        invalid((e as Error).message);
      }
    });
  }
  const dataDir = ipam.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || !dataDir.startsWith('/')) invalid(`ipam.dataDir: ${JSON.stringify(dataDir)} must be an absolute path`);
  let dns: CniDNS = {};
  if (ipam.resolvConf !== undefined) {
    if (typeof ipam.resolvConf !== 'string') invalid('ipam.resolvConf: must be a path');
    dns = readResolvConf(ipam.resolvConf);
  }
  return { network, rangeSets, routes, dataDir, dns };
}

const formatIp = (n: number) => formatCidr(n, 32).slice(0, -3);

function readResolvConf(path: string): CniDNS {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CniError(ErrCode.InvalidConfig, `ipam.resolvConf ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const dns: CniDNS = {};
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) (dns.nameservers ??= []).push(rest[0]);
    else if (key === 'search') dns.search = rest;
    else if (key === 'domain' && rest[0]) dns.domain = rest[0];
    else if (key === 'options') (dns.options ??= []).push(...rest);
  }
  return dns;
}

/** The addresses a request asks for: CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips (deduplicated). */
export function requestedIps(netconf: Record<string, unknown>, cniArgs: string): number[] {
  const out = new Set<number>();
  const add = (v: unknown, what: string) => {
    try {
      out.add(parseIpMaybeCidr(v, what));
    } catch (e) {
      throw new CniError(what.startsWith('CNI_ARGS') ? ErrCode.InvalidEnv : ErrCode.InvalidConfig, (e as Error).message);
    }
  };
  const ip = parseCniArgs(cniArgs).get('IP');
  if (ip) for (const p of ip.split(',')) add(p.trim(), 'CNI_ARGS IP');
  const args = netconf.args as { cni?: { ips?: unknown } } | undefined;
  const rc = netconf.runtimeConfig as { ips?: unknown } | undefined;
  for (const [list, what] of [
    [args?.cni?.ips, 'args.cni.ips'],
    [rc?.ips, 'runtimeConfig.ips'],
  ] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new CniError(ErrCode.InvalidConfig, `${what}: must be an array of addresses`);
    list.forEach((v, i) => add(v, `${what}[${i}]`));
  }
  return [...out];
}
