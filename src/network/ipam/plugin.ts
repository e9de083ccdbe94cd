// mydocker-ipam's CNI commands over the allocator (allocator.ts): ADD hands out an address per
// range set, DEL releases them, CHECK finds them, GC releases what no valid attachment holds.
import type { CniPlugin, CniRequest } from '../cni/skel.js';
import { CniError, type CniResult, ErrCode } from '../cni/types.js';
import { allocate, gc, heldBy, release } from './allocator.js';
import { parseIpamConfig, requestedIps } from './config.js';
import { normalizeResult } from '../cni/types.js';
import { builtins } from '../cni/exec.js';

export const ipamPlugin: CniPlugin = {
  add(req: CniRequest): CniResult {
    const conf = parseIpamConfig(req.config);
    const a = allocate(conf, req.containerId, req.ifname, requestedIps(req.config, req.args));
    return { cniVersion: '1.0.0', ips: a.ips, routes: a.routes, dns: a.dns };
  },

  del(req: CniRequest): void {
    release(parseIpamConfig(req.config), req.containerId, req.ifname);
  },

  check(req: CniRequest): void {
    const conf = parseIpamConfig(req.config);
    const held = heldBy(conf, req.containerId, req.ifname);
    if (!held.length) throw new CniError(ErrCode.Internal, `mydocker-ipam: container ${req.containerId} (${req.ifname}) holds no address in network ${conf.network}`);
    const prev = normalizeResult(req.config.prevResult);
    for (const ip of prev?.ips ?? []) {
      const addr = ip.address.split('/')[0]!;
      if (!held.includes(addr)) throw new CniError(ErrCode.Internal, `mydocker-ipam: ${addr} of prevResult is not held by container ${req.containerId} (${req.ifname}) in network ${conf.network}`);
    }
  },

  status(req: CniRequest): void {
    parseIpamConfig(req.config);
  },

  gc(req: CniRequest): void {
    gc(parseIpamConfig(req.config), validAttachments(req.config));
  },
};

/** CNI 1.1 GC's `cni.dev/valid-attachments`. */
export function validAttachments(config: Record<string, unknown>): Array<{ containerId: string; ifname: string }> {
  const list = config['cni.dev/valid-attachments'];
  // Without the list, every allocation would look stale: refuse rather than release them all.
  if (list === undefined) throw new CniError(ErrCode.InvalidConfig, 'cni.dev/valid-attachments: required for GC');
  if (!Array.isArray(list)) throw new CniError(ErrCode.InvalidConfig, 'cni.dev/valid-attachments: must be an array');
  return list.map((a: { containerID?: unknown; ifname?: unknown }, i) => {
    if (typeof a?.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw new CniError(ErrCode.InvalidConfig, `cni.dev/valid-attachments[${i}]: needs containerID and ifname`);
    }
    return { containerId: a.containerID, ifname: a.ifname };
  });
}

builtins.set('mydocker-ipam', ipamPlugin);
