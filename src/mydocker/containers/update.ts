// `update`: change a container's resources (and restart policy) as docker's: kept in its
// record for the next starts and, while it runs, applied to its cgroup through the runtime.
// Only what was asked is written to the cgroup, and "0" takes a limit away (docker's meaning).
import type { LinuxResources } from '../../spec/generated/types.js';
import type { Engine } from '../engine.js';
import { ConflictError, InputError, MydockerError } from '../errors.js';
import { bytesFlag, checkCpuset, cpusFlag, intFlag } from './options.js';
import type { HostConfig } from './record.js';
import { parseRestartPolicy } from './restart.js';
import { liveState } from './status.js';

export interface UpdateFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  restart?: string;
}

/** The HostConfig after the update and the cgroup writes it means; checked, nothing applied. */
export function planUpdate(hc: HostConfig, f: UpdateFlags): { hostConfig: HostConfig; resources: LinuxResources } {
  const next: HostConfig = { ...hc };
  const r: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (f.memory !== undefined) {
    next.Memory = f.memory === '0' ? 0 : bytesFlag('--memory', f.memory);
    if (next.Memory && next.Memory < 6 * 1024 * 1024) throw new InputError(`--memory ${f.memory}: minimum memory limit allowed is 6MB (docker's rule)`);
    memory.limit = next.Memory || -1;
  }
  if (f.memorySwap !== undefined) {
    next.MemorySwap = f.memorySwap === '-1' ? -1 : bytesFlag('--memory-swap', f.memorySwap);
    if (!next.Memory) throw new InputError('--memory-swap: the container has no memory limit (give --memory too)');
    memory.swap = next.MemorySwap;
  } else if (f.memory !== undefined && next.Memory && hc.MemorySwap > 0 && next.Memory > hc.MemorySwap) {
    throw new InputError(`--memory ${f.memory}: above the container's memory+swap limit (${hc.MemorySwap} bytes): update --memory-swap at the same time`);
  } else if (f.memory !== undefined && !hc.Memory && next.Memory) {
    next.MemorySwap = next.Memory * 2; // docker's default for a first limit: as much swap as memory
    memory.swap = next.MemorySwap;
  }
  if (next.MemorySwap > 0 && next.Memory > next.MemorySwap) throw new InputError(`--memory-swap ${f.memorySwap}: must be at least --memory (it is memory plus swap)`);
  if (f.memoryReservation !== undefined) {
    next.MemoryReservation = f.memoryReservation === '0' ? 0 : bytesFlag('--memory-reservation', f.memoryReservation);
    memory.reservation = next.MemoryReservation || -1;
  }
  if (next.Memory && (next.MemoryReservation ?? 0) > next.Memory) throw new InputError('--memory-reservation: must be below --memory (a soft limit under the hard one)');
  if (f.cpus !== undefined && (f.cpuPeriod !== undefined || f.cpuQuota !== undefined)) {
    throw new InputError('Conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set');
  }
  if (f.cpus !== undefined) {
    next.NanoCpus = cpusFlag(f.cpus);
    if (next.NanoCpus && (next.CpuQuota || next.CpuPeriod)) {
      throw new InputError('Conflicting options: --cpus and the container\'s --cpu-period/--cpu-quota cannot both be set');
    }
    cpu.period = 100000;
    cpu.quota = next.NanoCpus ? Math.round((next.NanoCpus * 100000) / 1e9) : -1;
  }
  if (f.cpuPeriod !== undefined || f.cpuQuota !== undefined) {
    if (next.NanoCpus) throw new InputError('Conflicting options: --cpu-period/--cpu-quota and the container\'s --cpus cannot both be set');
    if (f.cpuPeriod !== undefined) {
      next.CpuPeriod = intFlag('--cpu-period', f.cpuPeriod, 0);
      if (next.CpuPeriod && (next.CpuPeriod < 1000 || next.CpuPeriod > 1_000_000)) throw new InputError(`--cpu-period ${f.cpuPeriod}: must be between 1000 and 1000000 (microseconds)`);
      cpu.period = next.CpuPeriod || 100000;
    }
    if (f.cpuQuota !== undefined) {
      next.CpuQuota = intFlag('--cpu-quota', f.cpuQuota, -1);
      if (next.CpuQuota > 0 && next.CpuQuota < 1000) throw new InputError(`--cpu-quota ${f.cpuQuota}: must be at least 1000 (microseconds), or -1 for none`);
      cpu.quota = next.CpuQuota > 0 ? next.CpuQuota : -1;
    }
  }
  if (f.cpuShares !== undefined) {
    next.CpuShares = intFlag('--cpu-shares', f.cpuShares, 0);
    cpu.shares = next.CpuShares || 1024;
  }
  if (f.cpusetCpus !== undefined) cpu.cpus = next.CpusetCpus = checkCpuset(f.cpusetCpus);
  if (f.cpusetMems !== undefined) cpu.mems = next.CpusetMems = checkCpuset(f.cpusetMems, '--cpuset-mems');
  if (f.pidsLimit !== undefined) {
    next.PidsLimit = intFlag('--pids-limit', f.pidsLimit, -1);
    r.pids = { limit: next.PidsLimit > 0 ? next.PidsLimit : -1 };
  }
  if (f.restart !== undefined) {
    if (hc.AutoRemove) throw new ConflictError('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = parseRestartPolicy(f.restart);
  }
  if (Object.keys(memory).length) r.memory = memory;
  if (Object.keys(cpu).length) r.cpu = cpu;
  return { hostConfig: next, resources: r };
}

/** Update one container: the cgroup first (the kernel may refuse), then the record. */
export function updateContainer(engine: Engine, id: string, f: UpdateFlags): void {
  const unlock = engine.containers.lock(id);
  if (!unlock) throw new MydockerError(`No such container: ${id}`);
  try {
    const rec = engine.containers.read(id);
    const { hostConfig, resources } = planUpdate(rec.HostConfig, f);
    if (liveState(engine, rec).Running && Object.keys(resources).length) {
      try {
        engine.runtime.update(id, resources);
      } catch (e) {
        throw new MydockerError(`Cannot update container ${rec.Name}: ${(e as Error).message}`, { cause: e });
      }
    }
    rec.HostConfig = hostConfig;
    engine.containers.write(rec);
  } finally {
    unlock();
  }
}
