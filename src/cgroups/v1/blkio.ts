// linux.resources.blockIO on the v1 blkio controller.
//
//   weight                 blkio.weight (CFQ) or blkio.bfq.weight (BFQ), whichever the kernel has
//   leafWeight             blkio.leaf_weight (CFQ only: refused without it)
//   weightDevice[].weight      blkio.weight_device / blkio.bfq.weight_device  "MAJ:MIN W"
//   weightDevice[].leafWeight  blkio.leaf_weight_device                       "MAJ:MIN W"
//   throttle{Read,Write}{Bps,IOPS}Device  blkio.throttle.{read,write}_{bps,iops}_device "MAJ:MIN RATE"
//                          (rate 0 removes the limit, as the kernel defines it)
import { ConfigError, UnsupportedError } from '../../errors.js';
import type { LinuxBlockIO, LinuxThrottleDevice } from '../../spec/generated/types.js';
import { type CgroupDir, isInt } from '../dir.js';

const F = 'linux.resources.blockIO';

export function devKey(field: string, d: { major: number; minor: number }): string {
  if (!isInt(d.major) || !isInt(d.minor) || d.major < 0 || d.minor < 0) {
    throw new ConfigError(`${field}: device ${d.major}:${d.minor} is not a valid major:minor`);
  }
  return `${d.major}:${d.minor}`;
}

function weightFile(dir: CgroupDir, field: string, cfq: string, bfq: string): string {
  if (dir.has(cfq)) return cfq;
  if (dir.has(bfq)) return bfq;
  throw new UnsupportedError(`${field}: this kernel has no block I/O weights (neither ${cfq} nor ${bfq}: no CFQ or BFQ scheduler)`);
}

export const THROTTLES: [keyof LinuxBlockIO, string, string][] = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
];

export function applyBlkioV1(dir: CgroupDir, b: LinuxBlockIO): void {
  if (b.weight) {
    dir.write(`${F}.weight`, weightFile(dir, `${F}.weight`, 'blkio.weight', 'blkio.bfq.weight'), b.weight);
  }
  if (b.leafWeight) {
    if (!dir.has('blkio.leaf_weight')) {
      throw new UnsupportedError(`${F}.leafWeight: this kernel has no blkio.leaf_weight (a CFQ feature)`);
    }
    dir.write(`${F}.leafWeight`, 'blkio.leaf_weight', b.leafWeight);
  }
  (b.weightDevice ?? []).forEach((wd, i) => {
    const field = `${F}.weightDevice[${i}]`;
    const key = devKey(field, wd);
    if (wd.weight) {
      const file = weightFile(dir, `${field}.weight`, 'blkio.weight_device', 'blkio.bfq.weight_device');
      dir.write(`${field}.weight`, file, `${key} ${wd.weight}`);
    }
    if (wd.leafWeight) {
      if (!dir.has('blkio.leaf_weight_device')) {
        throw new UnsupportedError(`${field}.leafWeight: this kernel has no blkio.leaf_weight_device (a CFQ feature)`);
      }
      dir.write(`${field}.leafWeight`, 'blkio.leaf_weight_device', `${key} ${wd.leafWeight}`);
    }
  });
  for (const [name, file] of THROTTLES) {
    const list = (b[name] ?? []) as LinuxThrottleDevice[];
    list.forEach((td, i) => {
      const field = `${F}.${name}[${i}]`;
      const key = devKey(field, td);
      if (!isInt(td.rate) || td.rate < 0) throw new ConfigError(`${field}.rate: ${td.rate} is not valid`);
      dir.write(field, file, `${key} ${td.rate}`);
    });
  }
}
