// linux.resources.rdma → rdma.max (the same format on v1 and v2), one write per device:
//   "<device> hca_handle=<n> hca_object=<n>"   (a field left out stays as it is)
import { ConfigError } from '../errors.js';
import type { LinuxRdma } from '../spec/generated/types.js';
import { type CgroupDir, isInt } from './dir.js';

export function applyRdma(dir: CgroupDir, rdma: Record<string, LinuxRdma>): void {
  for (const [device, l] of Object.entries(rdma)) {
    const field = `linux.resources.rdma[${JSON.stringify(device)}]`;
    if (!device || /\s/.test(device)) throw new ConfigError(`${field}: not a device name`);
    let line = device;
    for (const [key, v] of [
      ['hca_handle', l.hcaHandles],
      ['hca_object', l.hcaObjects],
    ] as const) {
      if (v === undefined || v === null) continue;
      if (!isInt(v) || v < 0) throw new ConfigError(`${field}: ${key} ${v} is not valid`);
      line += ` ${key}=${v}`;
    }
    if (line === device) continue;
    dir.write(field, 'rdma.max', line);
  }
}
