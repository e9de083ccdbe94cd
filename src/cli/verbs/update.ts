// `update [flags] <id>`: change the limits of a live container, as runc's update.
//
// containerd's shim calls `update --resources - <id>` with a LinuxResources JSON on stdin
// (go-runc Update). With -r/--resources (a file, or `-` for stdin) every other flag is
// ignored, as in runc; otherwise the flags build the resources. Only what is given is
// written (the cgroup manager treats 0 as "leave as is", as runc's drivers do), and device
// rules are never touched on update (runc sets SkipDevices: a device plugin may have added
// rules of its own).
import { readFileSync } from 'node:fs';
import { Runtime } from '../../container/runtime.js';
import { UnsupportedError, UsageError } from '../../errors.js';
import type { LinuxResources } from '../../spec/generated/types.js';
import { parseJson } from '../../spec/validate.js';
import { ramInBytes } from '../../spec/units.js';

export { ramInBytes };
import { store, warn, type Globals } from '../globals.js';

export interface UpdateFlags {
  resources?: string;
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShare?: string;
  cpuShares?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

function intArg(flag: string, value: string, signed: boolean): number {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(value)) {
    throw new UsageError(`invalid value for ${flag}: ${JSON.stringify(value)} is not ${signed ? 'an' : 'a non-negative'} integer`);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new UsageError(`invalid value for ${flag}: ${JSON.stringify(value)} is out of range`);
  return n;
}

/** The resources runc's flags describe (only the flags given). */
export function resourcesFromFlags(o: UpdateFlags, g: Globals): LinuxResources {
  const r: LinuxResources = {};
  const memory = (r.memory ??= {});
  const cpu = (r.cpu ??= {});
  if (o.blkioWeight !== undefined) {
    const w = intArg('--blkio-weight', o.blkioWeight, false);
    if (w !== 0) r.blockIO = { weight: w };
  }
  if (o.cpusetCpus) cpu.cpus = o.cpusetCpus;
  if (o.cpusetMems) cpu.mems = o.cpusetMems;
  if (o.cpuPeriod !== undefined) cpu.period = intArg('--cpu-period', o.cpuPeriod, false);
  if (o.cpuRtPeriod !== undefined) cpu.realtimePeriod = intArg('--cpu-rt-period', o.cpuRtPeriod, false);
  // runc's flag is --cpu-share; --cpu-shares (docker's spelling) is accepted too.
  const shares = o.cpuShare ?? o.cpuShares;
  if (shares !== undefined) cpu.shares = intArg(o.cpuShare !== undefined ? '--cpu-share' : '--cpu-shares', shares, false);
  if (o.cpuQuota !== undefined) cpu.quota = intArg('--cpu-quota', o.cpuQuota, true);
  if (o.cpuRtRuntime !== undefined) cpu.realtimeRuntime = intArg('--cpu-rt-runtime', o.cpuRtRuntime, true);
  for (const [flag, value, key] of [
    ['--memory', o.memory, 'limit'],
    ['--memory-swap', o.memorySwap, 'swap'],
    ['--memory-reservation', o.memoryReservation, 'reservation'],
  ] as const) {
    if (value !== undefined && value !== '') memory[key] = value === '-1' ? -1 : ramInBytes(flag, value);
  }
  // Obsolete in runc too: accepted, warned about, not applied.
  if (o.kernelMemory) warn(g, ['Setting --kernel-memory is ignored and will be removed']);
  if (o.kernelMemoryTcp) warn(g, ['Setting --kernel-memory-tcp is ignored and will be removed']);
  if (o.pidsLimit !== undefined) {
    const limit = intArg('--pids-limit', o.pidsLimit, true);
    if (limit !== 0) r.pids = { limit };
  }
  if (!Object.keys(memory).length) delete r.memory;
  if (!Object.keys(cpu).length) delete r.cpu;
  return r;
}

export default function (id: string, o: UpdateFlags, g: Globals): void {
  if (o.l3CacheSchema) throw new UnsupportedError('--l3-cache-schema: Intel RDT is not supported by mydocker-runc');
  if (o.memBwSchema) throw new UnsupportedError('--mem-bw-schema: Intel RDT is not supported by mydocker-runc');
  let resources: LinuxResources;
  let label = 'update flags';
  if (o.resources !== undefined && o.resources !== '') {
    label = o.resources === '-' ? 'resources (stdin)' : o.resources;
    let text: string;
    try {
      text = readFileSync(o.resources === '-' ? 0 : o.resources, 'utf8');
    } catch (e) {
      throw new UsageError(`--resources ${o.resources}: ${(e as Error).message}`);
    }
    resources = parseJson(text, label) as LinuxResources;
  } else {
    resources = resourcesFromFlags(o, g);
  }
  // The façade validates (naming `label` in its errors) and applies.
  warn(g, new Runtime(store(g).root).update(id, resources, label));
}
