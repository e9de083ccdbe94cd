// mydocker-ipam as a library: what the plugin does, callable in-process. mydocker uses it to
// pre-allocate a container's address (so /etc/hosts can be written before the container
// starts), then passes that address to the ADD (CNI_ARGS IP=, or runtimeConfig.ips): an ADD
// that asks for the address its container and interface already hold gets it back.
//
//   const conf = parseIpamConfig(networkConfig)       // the network's config (its name and ipam)
//   const a = allocate(conf, containerId, 'eth0')      // a.ips[0].address === '10.88.0.5/16'
//   release(conf, containerId, 'eth0')                 // on failure before the container exists
//   allocations(conf)                                  // who holds what, for `network inspect`
//
// Every read-decide-write runs under the network's lock (store.ts), so parallel ADDs never
// hand out one address twice, and one container+interface never holds two addresses of a
// range set.
import { join } from 'node:path';
import { CniError, type CniDNS, type CniIPConfig, type CniRoute, ErrCode } from '../cni/types.js';
import { broadcastOf, contains, formatCidr, formatIPv4, networkOf, subnetString } from '../ip4.js';
import type { IpamConfig, IpamRange } from './config.js';
import { IpamStore, type Owner } from './store.js';

export interface Allocation {
  ips: CniIPConfig[];
  routes: CniRoute[];
  dns: CniDNS;
}

export interface Held extends Owner {
  ip: string;
}

export function storeOf(conf: IpamConfig): IpamStore {
  return new IpamStore(join(conf.dataDir, conf.network));
}

const same = (a: Owner | null | undefined, b: Owner) => !!a && a.containerId === b.containerId && a.ifname === b.ifname;

function inSet(set: IpamRange[], ip: number): IpamRange | undefined {
  return set.find((r) => contains(r.subnet, ip) && ip >= r.start && ip <= r.end);
}

/** Addresses a range never hands out. */
function reserved(r: IpamRange, ip: number): boolean {
  return ip === networkOf(r.subnet) || ip === broadcastOf(r.subnet) || ip === r.gateway;
}

function describeSet(set: IpamRange[]): string {
  return set.map((r) => `${subnetString(r.subnet)} (${formatIPv4(r.start)}-${formatIPv4(r.end)})`).join(', ');
}

function ipConfig(r: IpamRange, ip: number): CniIPConfig {
  return { address: formatCidr(ip, r.subnet.prefix), gateway: formatIPv4(r.gateway) };
}

/**
 * Every candidate of a range set, starting after `last` (round robin), in range order, lazily
 * (a /8 is 16 million candidates; a busy /16 must not cost a 65536-entry array per ADD).
 */
function* candidates(set: IpamRange[], last: number | null): Generator<[IpamRange, number]> {
  let first = 0;
  let start = set[0]!.start;
  if (last !== null) {
    const i = set.findIndex((r) => contains(r.subnet, last) && last >= r.start && last <= r.end);
    if (i >= 0) {
      first = i;
      start = last + 1;
    }
  }
  for (let k = 0; k <= set.length; k++) {
    const r = set[(first + k) % set.length]!;
    // The first range from `start`, the others whole, and the first one again up to `start`.
    const from = k === 0 ? start : r.start;
    const to = k === set.length ? start - 1 : r.end;
    for (let ip = from; ip <= to; ip++) if (!reserved(r, ip)) yield [r, ip];
  }
}

/**
 * One address per range set for `containerId`/`ifname`: the requested ones (each must fall in
 * a range set, be free or already theirs), the ones they already hold, or the next free ones.
 * Throws CniError: RangeExhausted, AddressUnavailable.
 */
export function allocate(conf: IpamConfig, containerId: string, ifname: string, requested: number[] = []): Allocation {
  const owner = { containerId, ifname };
  const wanted = new Map<number, number>(); // range set -> requested address
  for (const ip of requested) {
    const s = conf.rangeSets.findIndex((set) => set.some((r) => contains(r.subnet, ip)));
    if (s < 0) throw new CniError(ErrCode.AddressUnavailable, `requested address ${formatIPv4(ip)} is not in network ${conf.network} (${conf.rangeSets.map(describeSet).join('; ')})`);
    if (wanted.has(s)) throw new CniError(ErrCode.AddressUnavailable, `requested addresses ${formatIPv4(wanted.get(s)!)} and ${formatIPv4(ip)} fall in the same range set of network ${conf.network}: one address per range set`);
    wanted.set(s, ip);
  }
  const store = storeOf(conf);
  return store.locked(() => {
    const held = store.list();
    const taken: number[] = [];
    const ips: CniIPConfig[] = [];
    try {
      conf.rangeSets.forEach((set, s) => {
        const mine = [...held].find(([ip, o]) => same(o, owner) && inSet(set, ip));
        const want = wanted.get(s);
        if (want !== undefined) {
          const r = inSet(set, want);
          if (!r) throw new CniError(ErrCode.AddressUnavailable, `requested address ${formatIPv4(want)} is outside the range of network ${conf.network}: ${describeSet(set)}`);
          if (reserved(r, want)) throw new CniError(ErrCode.AddressUnavailable, `requested address ${formatIPv4(want)} is reserved in network ${conf.network} (network, broadcast or gateway address)`);
          if (mine && mine[0] !== want) {
            throw new CniError(ErrCode.AddressUnavailable, `container ${containerId} (${ifname}) already holds ${formatIPv4(mine[0])} in network ${conf.network}; it asked for ${formatIPv4(want)}`);
          }
          if (!mine) {
            const o = held.get(want);
            if (held.has(want) || !store.reserve(want, owner)) {
              const who = o ? ` (held by container ${o.containerId}, ${o.ifname})` : '';
              throw new CniError(ErrCode.AddressUnavailable, `requested address ${formatIPv4(want)} is already allocated in network ${conf.network}${who}`);
            }
            taken.push(want);
          }
          ips.push(ipConfig(r, want));
          return;
        }
        if (mine) {
          ips.push(ipConfig(inSet(set, mine[0])!, mine[0]));
          return;
        }
        for (const [r, ip] of candidates(set, store.lastReserved(s))) {
          if (held.has(ip)) continue;
          if (!store.reserve(ip, owner)) continue;
          taken.push(ip);
          store.setLastReserved(s, ip);
          ips.push(ipConfig(r, ip));
          return;
        }
        throw new CniError(ErrCode.RangeExhausted, `no free address left in network ${conf.network}: ${describeSet(set)} is exhausted (${held.size} allocated)`);
      });
    } catch (e) {
      for (const ip of taken) store.release(ip);
      if (e instanceof CniError) throw e;
      throw new CniError(ErrCode.IOFailure, `ipam store ${store.dir}: ${(e as Error).message}`);
    }
    return { ips, routes: conf.routes, dns: conf.dns };
  });
}

/** Release what `containerId`/`ifname` holds in the network; the released addresses. Idempotent. */
export function release(conf: IpamConfig, containerId: string, ifname: string): string[] {
  const store = storeOf(conf);
  const owner = { containerId, ifname };
  return store.locked(() => {
    const out: string[] = [];
    for (const [ip, o] of store.list()) {
      if (!same(o, owner)) continue;
      store.release(ip);
      out.push(formatIPv4(ip));
    }
    return out;
  });
}

/** Who holds which address (sorted by address). */
export function allocations(conf: IpamConfig): Held[] {
  const store = storeOf(conf);
  return store.locked(() =>
    [...store.list()]
      .sort(([a], [b]) => a - b)
      .map(([ip, o]) => ({ ip: formatIPv4(ip), containerId: o?.containerId ?? '', ifname: o?.ifname ?? '' })),
  );
}

/** The addresses `containerId`/`ifname` holds (CHECK). */
export function heldBy(conf: IpamConfig, containerId: string, ifname: string): string[] {
  return allocations(conf)
    .filter((h) => h.containerId === containerId && h.ifname === ifname)
    .map((h) => h.ip);
}

/** CNI GC: release every allocation whose owner is not in `valid`; the released addresses. */
export function gc(conf: IpamConfig, valid: Owner[]): string[] {
  const keep = new Set(valid.map((v) => `${v.containerId}\n${v.ifname}`));
  const store = storeOf(conf);
  return store.locked(() => {
    const out: string[] = [];
    for (const [ip, o] of store.list()) {
      if (!o || keep.has(`${o.containerId}\n${o.ifname}`)) continue;
      store.release(ip);
      out.push(formatIPv4(ip));
    }
    return out;
  });
}

/** `network rm`: remove the network's store; refused while an address is held. */
export function dropNetwork(conf: IpamConfig): void {
  const store = storeOf(conf);
  store.locked(() => {
    if (!store.drop()) throw new CniError(ErrCode.InvalidConfig, `network ${conf.network}: addresses are still allocated in ${store.dir}`);
  });
}
