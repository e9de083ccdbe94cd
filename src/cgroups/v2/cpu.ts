// linux.resources.cpu on cgroup v2.
//
//   shares           cpu.weight = 1 + ((shares - 2) * 9999) / 262142   (runc's conversion:
//                    2..262144 → 1..10000; the default 1024 → 39)
//   quota, period    cpu.max "QUOTA PERIOD": quota -1 or absent → "max"; a missing period
//                    keeps the current one (100000 on a new cgroup)
//   burst            cpu.max.burst
//   idle             cpu.idle
//   cpus, mems       cpuset.cpus, cpuset.mems
// Refused: realtimeRuntime / realtimePeriod (cgroup v2 has no RT group scheduling interface).
import { ConfigError, RuntimeError, UnsupportedError } from '../../errors.js';
import type { LinuxCPU } from '../../spec/generated/types.js';
import { type CgroupDir, isInt } from '../dir.js';

const F = 'linux.resources.cpu';

function opt(v: number | undefined, name: string, min: number): number {
  if (v === undefined || v === null) return 0;
  if (!isInt(v) || v < min) throw new ConfigError(`${F}.${name}: ${v} is not valid`);
  return v;
}

export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

function need(dir: CgroupDir, field: string, file: string, ctrl: string): void {
  if (!dir.has(file)) {
    throw new UnsupportedError(`${field}: ${file} does not exist in ${dir.path} (the ${ctrl} controller is not enabled there)`);
  }
}

export function applyCpuV2(dir: CgroupDir, c: LinuxCPU): void {
  const shares = opt(c.shares, 'shares', 0);
  const quota = opt(c.quota, 'quota', -1);
  const period = opt(c.period, 'period', 0);
  if (c.realtimeRuntime || c.realtimePeriod) {
    const name = c.realtimeRuntime ? 'realtimeRuntime' : 'realtimePeriod';
    throw new UnsupportedError(`${F}.${name}: real-time CPU scheduling limits are not supported on cgroup v2`);
  }

  if (shares !== 0) {
    if (shares < 2 || shares > 262144) throw new ConfigError(`${F}.shares: ${shares} is outside 2-262144`);
    need(dir, `${F}.shares`, 'cpu.weight', 'cpu');
    dir.write(`${F}.shares`, 'cpu.weight', sharesToWeight(shares));
  }
  if (quota !== 0 || period !== 0) {
    const field = quota !== 0 ? `${F}.quota` : `${F}.period`;
    need(dir, field, 'cpu.max', 'cpu');
    let p = period;
    if (p === 0) {
      const cur = dir.read('cpu.max', field).split(/\s+/)[1];
      p = cur && /^\d+$/.test(cur) ? Number(cur) : 100000;
    }
    dir.write(field, 'cpu.max', `${quota > 0 ? quota : 'max'} ${p}`);
  }
  if (c.burst !== undefined && c.burst !== null) {
    need(dir, `${F}.burst`, 'cpu.max.burst', 'cpu');
    dir.write(`${F}.burst`, 'cpu.max.burst', opt(c.burst, 'burst', 0));
  }
  if (c.idle !== undefined && c.idle !== null) {
    if (!dir.has('cpu.idle')) throw new RuntimeError(`${F}.idle: this kernel has no cpu.idle`);
    dir.write(`${F}.idle`, 'cpu.idle', opt(c.idle, 'idle', 0));
  }
  if (c.cpus) {
    need(dir, `${F}.cpus`, 'cpuset.cpus', 'cpuset');
    dir.write(`${F}.cpus`, 'cpuset.cpus', c.cpus);
  }
  if (c.mems) {
    need(dir, `${F}.mems`, 'cpuset.mems', 'cpuset');
    dir.write(`${F}.mems`, 'cpuset.mems', c.mems);
  }
}
