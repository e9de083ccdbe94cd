// linux.resources.blockIO on the cgroup v2 io controller.
//
//   weight                  io.bfq.weight (same 10..1000 scale) when BFQ is there, else
//                           io.weight = 1 + (weight - 10) * 9999 / 990   (runc's conversion)
//   weightDevice[].weight   io.bfq.weight / io.weight "MAJ:MIN W" (converted for io.weight)
//   throttle*Device         io.max "MAJ:MIN rbps=N" (wbps, riops, wiops); rate 0 → "max"
//                           (0 removes the limit, as on v1)
// Refused: leafWeight, weightDevice[].leafWeight (no v2 equivalent).
import { ConfigError, UnsupportedError } from '../../errors.js';
import type { LinuxBlockIO, LinuxThrottleDevice } from '../../spec/generated/types.js';
import { type CgroupDir, isInt } from '../dir.js';
import { devKey, THROTTLES } from '../v1/blkio.js';

const F = 'linux.resources.blockIO';

export function blkioWeightToIoWeight(w: number): number {
  if (w === 0) return 0;
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

function weightTarget(dir: CgroupDir, field: string): { file: string; conv: (w: number) => number } {
  if (dir.has('io.bfq.weight')) return { file: 'io.bfq.weight', conv: (w) => w };
  if (dir.has('io.weight')) return { file: 'io.weight', conv: blkioWeightToIoWeight };
  throw new UnsupportedError(`${field}: ${dir.path} has neither io.bfq.weight nor io.weight (io controller not enabled, or no weight-based scheduler)`);
}

export function applyIoV2(dir: CgroupDir, b: LinuxBlockIO): void {
  if (b.leafWeight) throw new UnsupportedError(`${F}.leafWeight: not supported on cgroup v2`);
  (b.weightDevice ?? []).forEach((wd, i) => {
    if (wd.leafWeight) throw new UnsupportedError(`${F}.weightDevice[${i}].leafWeight: not supported on cgroup v2`);
  });
  if (b.weight) {
    if (!isInt(b.weight) || b.weight < 10 || b.weight > 1000) throw new ConfigError(`${F}.weight: ${b.weight} is outside 10-1000`);
    const t = weightTarget(dir, `${F}.weight`);
    dir.write(`${F}.weight`, t.file, t.conv(b.weight));
  }
  (b.weightDevice ?? []).forEach((wd, i) => {
    const field = `${F}.weightDevice[${i}]`;
    const key = devKey(field, wd);
    if (!wd.weight) return;
    const t = weightTarget(dir, `${field}.weight`);
    dir.write(`${field}.weight`, t.file, `${key} ${t.conv(wd.weight)}`);
  });
  for (const [name, , v2key] of THROTTLES) {
    const list = (b[name] ?? []) as LinuxThrottleDevice[];
    list.forEach((td, i) => {
      const field = `${F}.${name}[${i}]`;
      const key = devKey(field, td);
      if (!isInt(td.rate) || td.rate < 0) throw new ConfigError(`${field}.rate: ${td.rate} is not valid`);
      if (!dir.has('io.max')) throw new UnsupportedError(`${field}: io.max does not exist in ${dir.path} (the io controller is not enabled there)`);
      dir.write(field, 'io.max', `${key} ${v2key}=${td.rate === 0 ? 'max' : td.rate}`);
    });
  }
}
