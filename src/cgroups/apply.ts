// linux.resources → controller writes, for each layout. Every field the host cannot apply
// throws an error naming the field; nothing is skipped silently.
//
//   field                 v1 / hybrid                              v2
//   devices               devices.deny "a" + devices.allow lines   eBPF program on the dir
//                         (no v1 devices: eBPF on the unified dir)
//   memory.*              memory controller (v1/memory.ts)          memory.* (v2/memory.ts)
//   cpu.*                 cpu + cpuset (v1/cpu.ts)                  cpu.weight/cpu.max/cpuset.* (v2/cpu.ts)
//   pids.limit            pids.max                                  pids.max
//   blockIO.*             blkio.* (v1/blkio.ts)                     io.* (v2/io.ts)
//   hugepageLimits        hugetlb v1, or the unified hierarchy      hugetlb.<size>.max
//                         when hugetlb lives there (hybrid)
//   network.classID       net_cls.classid                           refused (no net_cls on v2)
//   network.priorities    net_prio.ifpriomap                        refused (no net_prio on v2)
//   rdma                  rdma.max                                  rdma.max
//   unified               refused on v1; on hybrid only keys of     written as given, last
//                         controllers in the unified hierarchy
import { UnsupportedError } from '../errors.js';
import type { LinuxResources } from '../spec/generated/types.js';
import type { CgroupDir } from './dir.js';
import { applyHugetlb } from './hugetlb.js';
import { type ApplyContext, anySet } from './host.js';
import type { CgroupLayout } from './manager.js';
import { applyPids } from './pids.js';
import { applyRdma } from './rdma.js';
import { applyBlkioV1 } from './v1/blkio.js';
import { applyCpusetV1, applyCpuV1, cpuFieldsSet, cpusetFieldsSet } from './v1/cpu.js';
import { applyDevicesV1 } from './v1/devices.js';
import { applyMemoryV1 } from './v1/memory.js';
import { applyNetClsV1, applyNetPrioV1 } from './v1/net.js';
import { applyCpuV2 } from './v2/cpu.js';
import { applyDevicesV2 } from './v2/devices.js';
import { applyIoV2 } from './v2/io.js';
import { applyMemoryV2 } from './v2/memory.js';
import { applyUnified } from './v2/unified.js';

const R = 'linux.resources';

/** Where the container's cgroup is, per controller. */
export interface Target {
  kind: CgroupLayout;
  /** The container's directory in the v1 hierarchy holding `controller` (v1 and hybrid). */
  v1(controller: string): CgroupDir | undefined;
  /** The container's directory in the cgroup2 hierarchy (v2; the unified one on hybrid). */
  unified: CgroupDir | undefined;
}

export function applyResources(t: Target, r: LinuxResources | undefined, ctx: ApplyContext): void {
  if (!r) return;
  if (t.kind === 'v2') applyV2(t.unified!, r, ctx);
  else applyV1(t, r, ctx);
}

function networkSet(r: LinuxResources): { classID: boolean; priorities: boolean } {
  return {
    classID: r.network?.classID !== undefined && r.network?.classID !== null,
    priorities: (r.network?.priorities ?? []).length > 0,
  };
}

function applyV1(t: Target, r: LinuxResources, ctx: ApplyContext): void {
  const mounted = (ctrl: string, field: string): CgroupDir => {
    const d = t.v1(ctrl);
    if (!d) throw new UnsupportedError(`${field}: the ${ctrl} cgroup controller is not mounted on this host`);
    return d;
  };

  if (r.devices) {
    const d = t.v1('devices');
    if (d) applyDevicesV1(d, r.devices);
    else if (t.unified) applyDevicesV2(t.unified, r.devices);
    else mounted('devices', `${R}.devices`);
  }
  if (r.memory && anySet(r.memory)) applyMemoryV1(mounted('memory', `${R}.memory`), r.memory, ctx);
  if (r.cpu && cpuFieldsSet(r.cpu)) applyCpuV1(mounted('cpu', `${R}.cpu`), r.cpu);
  if (r.cpu && cpusetFieldsSet(r.cpu)) applyCpusetV1(mounted('cpuset', `${R}.cpu.${r.cpu.cpus ? 'cpus' : 'mems'}`), r.cpu);
  if (r.pids && r.pids.limit) applyPids(mounted('pids', `${R}.pids`), r.pids);
  if (r.blockIO && anySet(r.blockIO)) applyBlkioV1(mounted('blkio', `${R}.blockIO`), r.blockIO);
  if (r.hugepageLimits?.length) {
    const d = t.v1('hugetlb');
    if (d) applyHugetlb(d, r.hugepageLimits, ctx, 1);
    else if (t.unified) applyHugetlb(t.unified, r.hugepageLimits, ctx, 2);
    else mounted('hugetlb', `${R}.hugepageLimits`);
  }
  const net = networkSet(r);
  if (net.classID) applyNetClsV1(mounted('net_cls', `${R}.network.classID`), r.network!);
  if (net.priorities) applyNetPrioV1(mounted('net_prio', `${R}.network.priorities`), r.network!);
  if (r.rdma && Object.keys(r.rdma).length) applyRdma(mounted('rdma', `${R}.rdma`), r.rdma);
  if (r.unified && Object.keys(r.unified).length) {
    if (t.kind === 'v1' || !t.unified) {
      const key = Object.keys(r.unified)[0]!;
      throw new UnsupportedError(`${R}.unified[${JSON.stringify(key)}]: cgroup v2 keys cannot be applied on a cgroup v1 host`);
    }
    applyUnified(t.unified, r.unified, true);
  }
}

function applyV2(d: CgroupDir, r: LinuxResources, ctx: ApplyContext): void {
  const enabled = new Set((d.readIf('cgroup.controllers') ?? '').split(/\s+/).filter(Boolean));
  const need = (ctrl: string, field: string) => {
    if (!enabled.has(ctrl)) {
      throw new UnsupportedError(
        `${field}: the ${ctrl} controller is not enabled in ${d.path} (cgroup.controllers: ${[...enabled].join(' ') || 'none'})`,
      );
    }
  };
  const net = networkSet(r);
  if (net.classID) throw new UnsupportedError(`${R}.network.classID: net_cls is a cgroup v1 controller; cgroup v2 has no equivalent`);
  if (net.priorities) throw new UnsupportedError(`${R}.network.priorities: net_prio is a cgroup v1 controller; cgroup v2 has no equivalent`);

  if (r.devices) applyDevicesV2(d, r.devices);
  if (r.memory && anySet(r.memory)) {
    applyMemoryV2(d, r.memory, ctx); // refusals of v1-only fields first, then the controller check
  }
  if (r.cpu && (cpuFieldsSet(r.cpu) || cpusetFieldsSet(r.cpu))) applyCpuV2(d, r.cpu);
  if (r.pids && r.pids.limit) {
    need('pids', `${R}.pids.limit`);
    applyPids(d, r.pids);
  }
  if (r.blockIO && anySet(r.blockIO)) applyIoV2(d, r.blockIO);
  if (r.hugepageLimits?.length) applyHugetlb(d, r.hugepageLimits, ctx, 2);
  if (r.rdma && Object.keys(r.rdma).length) {
    need('rdma', `${R}.rdma`);
    applyRdma(d, r.rdma);
  }
  if (r.unified && Object.keys(r.unified).length) applyUnified(d, r.unified, false);
}
