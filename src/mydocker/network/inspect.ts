// `network ls` rows and `network inspect` objects, docker's shapes.
import { createHash } from 'node:crypto';
import type { Engine } from '../engine.js';
import { DEFAULT_NETWORK, type NetworkInfo } from './config.js';
import { allEndpoints } from './endpoints.js';
import type { PseudoNetwork } from './store.js';

export type AnyNetwork = NetworkInfo | PseudoNetwork;

export const isPseudo = (n: AnyNetwork): n is PseudoNetwork => !('list' in n);

/** Every network docker would list: the default one (made on first need), host, none, the user's. */
export function allNetworks(engine: Engine): AnyNetwork[] {
  engine.networks.ensureDefault();
  return [...engine.networks.list(), ...engine.networks.pseudo()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A network of any kind by name, id or unique id prefix; null when none matches. */
export function findAnyNetwork(engine: Engine, ref: string): AnyNetwork | null {
  if (ref === DEFAULT_NETWORK) return engine.networks.ensureDefault();
  const p = engine.networks.pseudo().find((x) => x.name === ref || x.id === ref);
  return p ?? engine.networks.find(ref);
}

/** The fields `network ls --format` sees (docker's names). */
export function lsRow(n: AnyNetwork, noTrunc: boolean): Record<string, string> {
  return {
    ID: noTrunc ? n.id : n.id.slice(0, 12),
    Name: n.name,
    Driver: n.driver,
    Scope: 'local',
    IPv6: 'false',
    Internal: String(!isPseudo(n) && n.internal),
    Labels: isPseudo(n) ? '' : Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: isPseudo(n) ? '' : n.created.replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
  };
}

export function inspectNetwork(engine: Engine, n: AnyNetwork): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  if (!isPseudo(n)) {
    for (const [id, eps] of allEndpoints(engine.networks.hookStateDir)) {
      const ep = eps.find((e) => e.network === n.name);
      if (!ep) continue;
      let name = '';
      try {
        name = engine.containers.read(id).Name;
      } catch {
        /* being removed */
      }
      containers[id] = {
        Name: name,
        EndpointID: createHash('sha256').update(`${n.id}\0${id}\0${ep.ifname}`).digest('hex'),
        MacAddress: ep.mac,
        IPv4Address: `${ep.ip}/${ep.prefix}`,
        IPv6Address: '',
      };
    }
  }
  const ipamConfig = isPseudo(n) ? [] : [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) }];
  return {
    Name: n.name,
    Id: n.id,
    Created: isPseudo(n) ? '0001-01-01T00:00:00Z' : n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: ipamConfig },
    Internal: !isPseudo(n) && n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: isPseudo(n) ? {} : { 'com.docker.network.bridge.name': n.bridge, ...(n.builtin ? { 'com.docker.network.bridge.default_bridge': 'true' } : {}), ...n.options },
    Labels: isPseudo(n) ? {} : n.labels,
  };
}
