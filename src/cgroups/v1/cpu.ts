// linux.resources.cpu on the v1 cpu and cpuset controllers.
//
//   shares           cpu.shares (read back: the kernel clamps to 2..262144, which we report)
//   period, quota    cpu.cfs_period_us, cpu.cfs_quota_us (quota -1 = unlimited; 0 = leave)
//   burst            cpu.cfs_burst_us
//   realtimePeriod   cpu.rt_period_us   (written before the runtime)
//   realtimeRuntime  cpu.rt_runtime_us  (needs budget in every parent: the kernel says EINVAL)
//   idle             cpu.idle
//   cpus, mems       cpuset.cpus, cpuset.mems
import { ConfigError, RuntimeError } from '../../errors.js';
import type { LinuxCPU } from '../../spec/generated/types.js';
import { type CgroupDir, errnoCode, isInt } from '../dir.js';

const F = 'linux.resources.cpu';

function opt(v: number | undefined, name: string, min: number): number {
  if (v === undefined || v === null) return 0;
  if (!isInt(v) || v < min) throw new ConfigError(`${F}.${name}: ${v} is not valid`);
  return v;
}

/** Does `c` set anything the cpu controller (not cpuset) handles? */
export function cpuFieldsSet(c: LinuxCPU): boolean {
  return (
    !!c.shares ||
    !!c.quota ||
    !!c.period ||
    c.burst !== undefined ||
    !!c.realtimeRuntime ||
    !!c.realtimePeriod ||
    c.idle !== undefined
  );
}

export function cpusetFieldsSet(c: LinuxCPU): boolean {
  return !!c.cpus || !!c.mems;
}

export function applyCpuV1(dir: CgroupDir, c: LinuxCPU): void {
  const shares = opt(c.shares, 'shares', 0);
  const quota = opt(c.quota, 'quota', -1);
  const period = opt(c.period, 'period', 0);
  const rtRuntime = opt(c.realtimeRuntime, 'realtimeRuntime', -1);
  const rtPeriod = opt(c.realtimePeriod, 'realtimePeriod', 0);

  if (shares !== 0) {
    dir.write(`${F}.shares`, 'cpu.shares', shares);
    const got = Number(dir.read('cpu.shares', `${F}.shares`));
    if (got !== shares) {
      throw new RuntimeError(`${F}.shares: the kernel set cpu.shares to ${got} instead of ${shares} (allowed range 2-262144)`);
    }
  }

  // A shorter period can be refused (EINVAL) while the old quota/new period would exceed the
  // parent's bandwidth; then write the quota first and the period after it.
  let periodLater = false;
  if (period !== 0) {
    try {
      dir.write(`${F}.period`, 'cpu.cfs_period_us', period);
    } catch (e) {
      if (errnoCode(e) !== 'EINVAL' || quota === 0) throw e;
      periodLater = true;
    }
  }
  if (quota !== 0) {
    dir.write(`${F}.quota`, 'cpu.cfs_quota_us', quota);
    if (periodLater) dir.write(`${F}.period`, 'cpu.cfs_period_us', period);
  }
  if (c.burst !== undefined && c.burst !== null) {
    dir.write(`${F}.burst`, 'cpu.cfs_burst_us', opt(c.burst, 'burst', 0));
  }

  if (rtPeriod !== 0) dir.write(`${F}.realtimePeriod`, 'cpu.rt_period_us', rtPeriod);
  if (rtRuntime !== 0) {
    try {
      dir.write(`${F}.realtimeRuntime`, 'cpu.rt_runtime_us', rtRuntime);
    } catch (e) {
      if (errnoCode(e) !== 'EINVAL') throw e;
      throw new RuntimeError(
        `${(e as Error).message} (every parent cgroup needs at least this much cpu.rt_runtime_us, and runtime <= period)`,
        { cause: e },
      );
    }
  }
  if (c.idle !== undefined && c.idle !== null) {
    if (!dir.has('cpu.idle')) throw new RuntimeError(`${F}.idle: this kernel has no cpu.idle`);
    dir.write(`${F}.idle`, 'cpu.idle', opt(c.idle, 'idle', 0));
  }
}

export function applyCpusetV1(dir: CgroupDir, c: LinuxCPU): void {
  // The set must be a subset of the parent's (the kernel says EINVAL otherwise).
  if (c.cpus) dir.write(`${F}.cpus`, 'cpuset.cpus', c.cpus);
  if (c.mems) dir.write(`${F}.mems`, 'cpuset.mems', c.mems);
}
