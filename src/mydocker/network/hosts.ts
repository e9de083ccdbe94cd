// /etc/hosts of containers on networks: the localhost lines, the container's own address with
// its hostname, and — on user-defined networks only, docker's rule (the default bridge gives
// no name resolution) — every neighbour by name, short id and network aliases. When a
// container joins or leaves a network, the hosts files of that network's running members are
// rewritten in place (their bind mounts pin the inode), all under one lock per data root, so
// two containers starting at once cannot leave a file that misses one of them.
import { join } from 'node:path';
import { withLock } from '../../network/lockfile.js';
import { extraHostEntries, hostsText, type HostsEntry, writeInPlace } from '../containers/etc-files.js';
import type { ContainerRecord } from '../containers/record.js';
import { shortId } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { allEndpoints } from './endpoints.js';

/** The names a container answers to on a user-defined network. */
export function namesOn(rec: Pick<ContainerRecord, 'Id' | 'Name' | 'Networks'>, network: string): string[] {
  return [...new Set([rec.Name, shortId(rec.Id), ...(rec.Networks[network]?.Aliases ?? [])])];
}

export interface Member {
  rec: Pick<ContainerRecord, 'Id' | 'Name' | 'Networks' | 'Config'> & { HostConfig?: Pick<ContainerRecord['HostConfig'], 'ExtraHosts'> };
  endpoints: Array<{ network: string; ip: string }>;
}

/**
 * The hosts file of `self` among `others`. `userNetworks` holds the networks where names
 * resolve (every one but the default bridge). `gatewayOf` gives a network's gateway, which
 * `--add-host NAME:host-gateway` names (the first network's, where the default route goes).
 */
export function hostsFor(self: Member, others: Member[], userNetworks: Set<string>, gatewayOf: (network: string) => string | undefined = () => undefined): string {
  const entries: HostsEntry[] = [];
  const seen = new Set<string>();
  const add = (ip: string, names: string[]) => {
    const fresh = [...new Set(names)].filter((n) => n && !seen.has(`${ip} ${n}`));
    if (!ip || !fresh.length) return;
    for (const n of fresh) seen.add(`${ip} ${n}`);
    entries.push({ ip, names: fresh });
  };
  self.endpoints.forEach((e, i) => {
    const names = i === 0 ? [self.rec.Config.Hostname] : [];
    if (userNetworks.has(e.network)) names.push(...namesOn(self.rec, e.network));
    add(e.ip, names);
  });
  const mine = new Set(self.endpoints.map((e) => e.network).filter((n) => userNetworks.has(n)));
  for (const o of others) {
    if (o.rec.Id === self.rec.Id) continue;
    for (const e of o.endpoints) if (mine.has(e.network)) add(e.ip, namesOn(o.rec, e.network));
  }
  const first = self.endpoints[0]?.network;
  return hostsText(entries, extraHostEntries(self.rec.HostConfig?.ExtraHosts, first ? gatewayOf(first) : undefined));
}

/** A network's gateway address, for host-gateway (undefined when its config cannot be read). */
export function gatewayLookup(engine: Engine): (network: string) => string | undefined {
  return (network) => {
    try {
      return engine.networks.read(network)?.gateway || undefined;
    } catch {
      return undefined;
    }
  };
}

/** Which of `networks` give name resolution (all but the built-in default). */
export function userNetworksOf(engine: Engine, networks: string[]): Set<string> {
  const out = new Set<string>();
  for (const n of networks) {
    try {
      const net = engine.networks.read(n);
      if (net && !net.builtin) out.add(n);
    } catch {
      /* a damaged network config: no names */
    }
  }
  return out;
}

function withHostsLock<T>(engine: Engine, fn: () => T): T {
  return withLock(join(engine.networks.stateDir, 'hosts.lock'), fn);
}

/** Every attached container, with its record (those whose record cannot be read are left out). */
export function attachedMembers(engine: Engine): Member[] {
  const out: Member[] = [];
  for (const [id, eps] of allEndpoints(engine.networks.hookStateDir)) {
    try {
      out.push({ rec: engine.containers.read(id), endpoints: eps });
    } catch {
      /* being removed */
    }
  }
  return out;
}

/**
 * Rewrite the hosts file of every running member of `networks` (user-defined ones; the default
 * bridge has no names to share), and of container `also` if it runs (one that just left them).
 * Called after a container joined or left networks.
 */
export function refreshHosts(engine: Engine, networks: string[], also = ''): void {
  const user = userNetworksOf(engine, networks);
  if (!user.size && !also) return;
  withHostsLock(engine, () => {
    const members = attachedMembers(engine);
    const names = new Set(members.flatMap((m) => m.endpoints.map((e) => e.network)));
    const all = userNetworksOf(engine, [...names]);
    for (const m of members) {
      if (m.rec.Id !== also && !m.endpoints.some((e) => user.has(e.network))) continue;
      try {
        writeInPlace(engine.containers.path(m.rec.Id, 'hosts'), hostsFor(m, members, all, gatewayLookup(engine)));
      } catch {
        /* its directory went away: it is being removed */
      }
    }
  });
}
