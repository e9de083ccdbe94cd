// Where a container is attached, read from the OCI hook's state (<run>/networks/containers/<id>/
// result.json): written by the createRuntime ADD, removed by the poststop DEL, so it says what
// is attached on the host right now — never a copy in the container's record that a crash
// could leave stale. inspect, ps, `port`, `network inspect` and the /etc/hosts of neighbours
// all read it.
import { readdirSync } from 'node:fs';
import type { PortMapping } from '../../network/bridge/ports.js';
import { type NetworkState, readNetworkState } from '../../network/hook/glue.js';

export interface Endpoint {
  network: string;
  ifname: string;
  /** No prefix: "172.18.0.2". */
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  ports: PortMapping[];
}

export function endpointsOf(st: NetworkState | null): Endpoint[] {
  if (!st) return [];
  const out: Endpoint[] = [];
  for (const a of st.attachments) {
    const r = a.result;
    if (!r) continue; // an ADD that never completed
    const ip = r.ips?.[0];
    const [addr = '', prefix = '0'] = (ip?.address ?? '').split('/');
    const iface = r.interfaces?.find((i) => i.sandbox && i.name === a.ifname) ?? r.interfaces?.find((i) => i.sandbox);
    out.push({
      network: a.network,
      ifname: a.ifname,
      ip: addr,
      prefix: Number(prefix),
      gateway: ip?.gateway ?? '',
      mac: iface?.mac ?? '',
      ports: (a.capabilityArgs.portMappings as PortMapping[] | undefined) ?? [],
    });
  }
  return out;
}

/** A container's endpoints (none when it is not running, or its state cannot be read). */
export function endpoints(hookStateDir: string, containerId: string): Endpoint[] {
  try {
    return endpointsOf(readNetworkState(hookStateDir, containerId));
  } catch {
    return [];
  }
}

/** Every attached container and its endpoints. */
export function allEndpoints(hookStateDir: string): Map<string, Endpoint[]> {
  const out = new Map<string, Endpoint[]>();
  let ids: string[];
  try {
    ids = readdirSync(hookStateDir);
  } catch {
    return out;
  }
  for (const id of ids) {
    const eps = endpoints(hookStateDir, id);
    if (eps.length) out.set(id, eps);
  }
  return out;
}
