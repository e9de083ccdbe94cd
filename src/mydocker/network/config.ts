// A mydocker network on disk: one CNI conflist per network, <lib>/networks/<name>.conflist,
// which is at the same time what the OCI hook hands to the plugins (mydocker-bridge with
// mydocker-ipam) and mydocker's record of the network (the "org.mydocker" key, which CNI
// ignores). Pure: building and reading that file, no host access.
//
//   { "cniVersion": "1.0.0", "name": "mynet",
//     "plugins": [{ "type": "mydocker-bridge", "bridge": "br-0123456789ab", "isGateway": true,
//                   "ipMasq": true, "hairpinMode": true, "stateDir": "<run>/networks/cni",
//                   "capabilities": { "portMappings": true, "ips": true, "mac": true },
//                   "ipam": { "type": "mydocker-ipam", "subnet": "172.18.0.0/16",
//                             "gateway": "172.18.0.1", "routes": [{ "dst": "0.0.0.0/0" }],
//                             "dataDir": "<run>/networks/ipam" } }],
//     "org.mydocker": { "id": "<64 hex>", "created": "<RFC 3339>", "driver": "bridge",
//                       "labels": {}, "options": {}, "ipRange": null } }
import { randomBytes } from 'node:crypto';
import { type NetworkList, parseNetworkList } from '../../network/cni/chain.js';
import { broadcastOf, type Cidr, contains, formatIPv4, networkOf, parseCidr, parseIPv4, subnetString } from '../../network/ip4.js';
import { InputError, MydockerError } from '../errors.js';

/** The network every container joins unless told otherwise (docker's "bridge"). */
export const DEFAULT_NETWORK = 'bridge';
/** Networks that are modes, not CNI networks (docker lists them too). */
export const PSEUDO_NETWORKS = { host: 'host', none: 'null' } as const;
export const META_KEY = 'org.mydocker';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface NetworkInfo {
  name: string;
  id: string;
  created: string;
  driver: 'bridge';
  /** "172.18.0.0/16" */
  subnet: string;
  gateway: string;
  /** --ip-range: where container addresses come from (null: the whole subnet). */
  ipRange: string | null;
  bridge: string;
  mtu: number;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** The default network (name resolution off, cannot be removed). */
  builtin: boolean;
  /** --internal: no way out of the subnet (no masquerade, no default route, nothing forwarded). */
  internal: boolean;
  /** The conflist, as the hook reads it. */
  list: NetworkList;
}

export interface StateDirs {
  /** mydocker-ipam's dataDir. */
  ipam: string;
  /** mydocker-bridge's stateDir (attachment records, host-port registry). */
  plugin: string;
}

export function validateNetworkName(name: string): string {
  if (!NAME_RE.test(name) || name.length > 128) {
    throw new InputError(`network name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at most 128 characters)`);
  }
  return name;
}

export function newNetworkId(): string {
  return randomBytes(32).toString('hex');
}

/** The host bridge of a network: "br-" and 12 hex digits of its id (15 bytes, IFNAMSIZ-1). */
export function bridgeName(id: string): string {
  return `br-${id.slice(0, 12)}`;
}

export interface AddressPlan {
  subnet: Cidr;
  gateway: number;
  ipRange: Cidr | null;
}

/**
 * --subnet, --gateway, --ip-range checked against each other. A subnet written with host bits
 * set (the book's `--subnet 192.168.10.1/24`) is the subnet 192.168.10.0/24 whose gateway is
 * that address, unless --gateway says otherwise.
 */
export function addressPlan(subnetArg: string, gatewayArg?: string, ipRangeArg?: string): AddressPlan {
  let given: Cidr;
  try {
    given = parseCidr(subnetArg, '--subnet');
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const subnet = { ip: networkOf(given), prefix: given.prefix };
  if (subnet.prefix > 30) throw new InputError(`--subnet ${subnetArg}: too small (at most /30: a network, a gateway, a container and a broadcast address)`);
  if (subnet.prefix < 8) throw new InputError(`--subnet ${subnetArg}: too large (at least /8)`);
  const net = subnet.ip;
  const bcast = broadcastOf(subnet);
  let gateway = given.ip !== net ? given.ip : net + 1;
  if (gatewayArg !== undefined) {
    try {
      gateway = parseIPv4(gatewayArg, '--gateway');
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    if (!contains(subnet, gateway)) throw new InputError(`--gateway ${gatewayArg}: not in the subnet ${subnetString(subnet)}`);
  }
  if (gateway === net || gateway === bcast) throw new InputError(`--gateway ${formatIPv4(gateway)}: the network or broadcast address of ${subnetString(subnet)} cannot be the gateway`);
  let ipRange: Cidr | null = null;
  if (ipRangeArg !== undefined) {
    let r: Cidr;
    try {
      r = parseCidr(ipRangeArg, '--ip-range');
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    ipRange = { ip: networkOf(r), prefix: r.prefix };
    if (ipRange.prefix < subnet.prefix || !contains(subnet, ipRange.ip)) throw new InputError(`--ip-range ${ipRangeArg}: not inside the subnet ${subnetString(subnet)}`);
  }
  return { subnet, gateway, ipRange };
}

export interface NewNetwork {
  name: string;
  id: string;
  plan: AddressPlan;
  mtu: number;
  labels: Record<string, string>;
  options: Record<string, string>;
  builtin: boolean;
  internal?: boolean;
}

/** The conflist of a new network. */
export function conflistFor(n: NewNetwork, dirs: StateDirs, created = new Date().toISOString()): Record<string, unknown> {
  const { subnet, gateway, ipRange } = n.plan;
  const ipam: Record<string, unknown> = {
    type: 'mydocker-ipam',
    subnet: subnetString(subnet),
    gateway: formatIPv4(gateway),
  };
  if (ipRange) {
    // Never the subnet's own network or broadcast address, even when the range starts there.
    ipam.rangeStart = formatIPv4(Math.max(networkOf(ipRange), subnet.ip + 1));
    ipam.rangeEnd = formatIPv4(Math.min(broadcastOf(ipRange), broadcastOf(subnet) - 1));
  }
  // An internal network gives no default route: its containers reach their subnet only.
  ipam.routes = n.internal ? [] : [{ dst: '0.0.0.0/0' }];
  ipam.dataDir = dirs.ipam;
  return {
    cniVersion: '1.0.0',
    name: n.name,
    plugins: [
      {
        type: 'mydocker-bridge',
        bridge: bridgeName(n.id),
        isGateway: true,
        ipMasq: !n.internal,
        ...(n.internal ? { internal: true } : {}),
        // A container reaching its own published port through the host comes back through
        // its own bridge port (br_netfilter): the bridge must send it back out of it.
        hairpinMode: true,
        ...(n.mtu ? { mtu: n.mtu } : {}),
        stateDir: dirs.plugin,
        capabilities: { portMappings: true, ips: true, mac: true },
        ipam,
      },
    ],
    [META_KEY]: {
      id: n.id,
      created,
      driver: 'bridge',
      labels: n.labels,
      options: n.options,
      ipRange: ipRange ? subnetString(ipRange) : null,
      builtin: n.builtin,
      ...(n.internal ? { internal: true } : {}),
    },
  };
}

/** A network's file, read back (a damaged one is reported by path: `network rm` can still drop it). */
export function parseNetworkFile(text: string, path: string): NetworkInfo {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new MydockerError(`network config ${path}: not valid JSON (${(e as Error).message})`);
  }
  let list: NetworkList;
  try {
    list = parseNetworkList(raw, `network config ${path}`);
  } catch (e) {
    throw new MydockerError((e as Error).message);
  }
  const meta = raw[META_KEY] as Record<string, unknown> | undefined;
  const plugin = list.plugins[0] as Record<string, unknown>;
  const ipam = plugin?.ipam as Record<string, unknown> | undefined;
  if (!meta || typeof meta.id !== 'string' || plugin?.type !== 'mydocker-bridge' || typeof ipam?.subnet !== 'string' || typeof plugin.bridge !== 'string') {
    throw new MydockerError(`network config ${path}: not a mydocker network (no ${META_KEY} record or no mydocker-bridge plugin)`);
  }
  return {
    name: list.name,
    id: meta.id,
    created: String(meta.created ?? ''),
    driver: 'bridge',
    subnet: ipam.subnet,
    gateway: String(ipam.gateway ?? ''),
    ipRange: typeof meta.ipRange === 'string' ? meta.ipRange : null,
    bridge: plugin.bridge,
    mtu: typeof plugin.mtu === 'number' ? plugin.mtu : 0,
    labels: (meta.labels as Record<string, string>) ?? {},
    options: (meta.options as Record<string, string>) ?? {},
    builtin: meta.builtin === true,
    internal: meta.internal === true,
    list,
  };
}

/** `-o key=value` of `network create`: the ones mydocker implements, the others refused by name. */
export function parseNetworkOptions(opts: string[]): { options: Record<string, string>; mtu: number } {
  const options: Record<string, string> = {};
  let mtu = 0;
  for (const o of opts) {
    const eq = o.indexOf('=');
    const k = eq < 0 ? o : o.slice(0, eq);
    const v = eq < 0 ? '' : o.slice(eq + 1);
    if (k === 'com.docker.network.driver.mtu' || k === 'mtu') {
      if (!/^\d+$/.test(v) || Number(v) < 68 || Number(v) > 65535) throw new InputError(`-o ${o}: the MTU must be a number from 68 to 65535`);
      mtu = Number(v);
      options[k] = v;
    } else {
      throw new InputError(`-o ${o}: unknown option (mydocker's bridge driver takes com.docker.network.driver.mtu; the bridge's name is derived from the network id)`);
    }
  }
  return { options, mtu };
}
