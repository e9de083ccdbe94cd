// The host side of a mydocker network: its bridge (made at `network create`, as docker makes
// its bridges, so that the subnet is visibly taken on the host from then on), the host's
// routes and addresses that a new subnet must not overlap, and the address pools subnets are
// picked from.
//
// Subnets are a host-wide resource shared by every data root (a test's private --root as much
// as /var/lib/mydocker): whoever picks one holds HOST_LOCK from the look at the host's routes
// until its bridge carries the gateway address, so two roots never pick the same subnet.
import { withLock } from '../../network/lockfile.js';
import { broadcastOf, type Cidr, formatCidr, overlaps, subnetString } from '../../network/ip4.js';
import { randomMac, Rtnl } from '../../network/rtnetlink.js';
import { MydockerError } from '../errors.js';

/** A lock file, not state: it only orders the subnet choices of all mydocker data roots. */
export const HOST_LOCK = '/run/lock/mydocker-networks.lock';

export function withHostLock<T>(fn: () => T): T {
  return withLock(HOST_LOCK, fn);
}

/**
 * docker's default address pools: 172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/16 cut in
 * /20s. The default network takes the first that is free, user networks the next ones.
 */
export const DEFAULT_POOLS: Cidr[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ ip: ((172 << 24) | ((17 + i) << 16)) >>> 0, prefix: 16 })),
  ...Array.from({ length: 16 }, (_, i) => ({ ip: ((192 << 24) | (168 << 16) | ((i * 16) << 8)) >>> 0, prefix: 20 })),
];

export interface HostNet {
  cidr: Cidr;
  /** The device it is on ("eth0"), for messages. */
  dev: string;
}

/**
 * What the host already reaches directly: its routes (but the default one) and the subnets of
 * its addresses (a link that is down has addresses but no routes).
 */
export function hostNetworks(): HostNet[] {
  const rt = Rtnl.open();
  try {
    const names = new Map<number, string>();
    const dev = (index: number) => {
      if (!names.has(index)) names.set(index, rt.linkByIndex(index)?.name ?? `#${index}`);
      return names.get(index)!;
    };
    const out: HostNet[] = [];
    for (const r of rt.routes()) if (r.prefix > 0) out.push({ cidr: { ip: r.dst, prefix: r.prefix }, dev: r.oif ? dev(r.oif) : '' });
    for (const a of rt.addresses()) if (a.prefix > 0 && a.prefix < 32) out.push({ cidr: { ip: a.ip, prefix: a.prefix }, dev: dev(a.index) });
    return out;
  } finally {
    rt.close();
  }
}

/** The host network `subnet` collides with (ignoring `ownBridge`, the network's own bridge), or null. */
export function hostConflict(subnet: Cidr, host: HostNet[], ownBridge = ''): HostNet | null {
  return host.find((h) => h.dev !== ownBridge && overlaps(h.cidr, subnet)) ?? null;
}

/** The first pool entry overlapping none of `taken` and none of the host's networks. */
export function pickSubnet(taken: Cidr[], host: HostNet[], pools = DEFAULT_POOLS): Cidr | null {
  return pools.find((p) => !taken.some((t) => overlaps(t, p)) && !hostConflict(p, host)) ?? null;
}

export function linkExists(name: string): boolean {
  const rt = Rtnl.open();
  try {
    return rt.link(name) !== null;
  } finally {
    rt.close();
  }
}

/**
 * The network's bridge, up, with the gateway address. What exists already is kept (the
 * plugin's ADD makes the same bridge the same way when it is missing).
 */
export function ensureBridge(name: string, gateway: number, subnet: Cidr, mtu = 0): void {
  const rt = Rtnl.open();
  try {
    let br = rt.link(name);
    if (!br) {
      try {
        rt.nl.ack(rt.createBridgeRequest(name, randomMac(), mtu || undefined));
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST') throw e;
      }
      br = rt.link(name);
    }
    if (!br || br.kind !== 'bridge') throw new MydockerError(`bridge ${name}: ${br ? 'exists and is not a bridge' : 'vanished right after it was made'}`);
    if (!rt.addresses(br.index).some((a) => a.ip === gateway && a.prefix === subnet.prefix)) {
      try {
        rt.nl.ack(rt.addressRequest(br.index, gateway, subnet.prefix, broadcastOf(subnet), name));
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST') throw e;
      }
    }
  } catch (e) {
    if (e instanceof MydockerError) throw e;
    throw new MydockerError(`bridge ${name} (${formatCidr(gateway, subnet.prefix)}): ${(e as Error).message}`);
  } finally {
    rt.close();
  }
}

/** Delete a network's bridge (its veths are gone with their containers); false if it was not there. */
export function deleteBridge(name: string): boolean {
  const rt = Rtnl.open();
  try {
    return rt.deleteLink(name);
  } finally {
    rt.close();
  }
}

export function describeHostNet(h: HostNet): string {
  return `${subnetString(h.cidr)}${h.dev ? ` (on ${h.dev})` : ''}`;
}
