// Networking as a library, for in-process users (mydocker): what the CNI programs do, as calls.
//
//   const { list } = loadNetworkList('mynet', confDir);
//   const ipam = ipamConfigOf(list);                          // the mydocker-ipam section, or null
//   const ip = allocate(ipam!, containerId, 'eth0').ips[0];   // before the container exists:
//                                                             // write /etc/hosts with it, then set
//   annotations['org.mydocker.cni.ip'] = ip.address.split('/')[0];   // the ADD asks for that address
//   ...
//   readNetworkState(stateDir, containerId)                   // after create: IP, MAC, gateway, ports
//   release(ipam!, containerId, 'eth0')                       // if the container never got to run
//
// attach()/detach() are the hook's ADD and DEL. For `network connect`/`disconnect` of a running
// container: attach(id, pid, spec, { append: true }) adds to what the hook attached, and
// detachOne(id, spec, network) takes one network away.
import './bridge/plugin.js'; // mydocker-bridge and mydocker-ipam run in-process (cni/exec.ts)
import type { NetworkList } from './cni/chain.js';
import { parseIpamConfig, type IpamConfig } from './ipam/config.js';

export { allocate, allocations, dropNetwork, release, type Allocation, type Held } from './ipam/allocator.js';
export { parseIpamConfig, type IpamConfig } from './ipam/config.js';
export { loadNetworkList, parseNetworkList, type NetworkList, DEFAULT_CONF_DIR } from './cni/chain.js';
export { attach, detach, detachKnown, detachOne, check, readNetworkState, type NetworkState, type AttachmentState } from './hook/glue.js';
export { parseAnnotations, ANNOTATIONS, DEFAULT_HOOK_STATE_DIR, type NetworkSpec, type AttachmentSpec } from './hook/annotations.js';
export { parsePortSpec, describe as describePort, type PortMapping } from './bridge/ports.js';
export { CniError, ErrCode } from './cni/types.js';

/** The IPAM configuration of a network whose addresses mydocker-ipam manages (null otherwise). */
export function ipamConfigOf(list: NetworkList): IpamConfig | null {
  for (const p of list.plugins) {
    const ipam = p.ipam as { type?: unknown } | undefined;
    if (ipam?.type === 'mydocker-ipam') return parseIpamConfig({ ...p, name: list.name });
  }
  return null;
}
