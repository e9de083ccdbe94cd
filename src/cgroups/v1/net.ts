// linux.resources.network on the v1 net_cls and net_prio controllers (cgroup v2 has neither:
// the manager refuses the fields there).
//   classID        net_cls.classid
//   priorities[]   net_prio.ifpriomap "IFNAME PRIO", one write per interface
import { ConfigError } from '../../errors.js';
import type { LinuxNetwork } from '../../spec/generated/types.js';
import { type CgroupDir, isInt } from '../dir.js';

const F = 'linux.resources.network';

export function applyNetClsV1(dir: CgroupDir, n: LinuxNetwork): void {
  if (n.classID === undefined || n.classID === null) return;
  if (!isInt(n.classID) || n.classID < 0) throw new ConfigError(`${F}.classID: ${n.classID} is not valid`);
  dir.write(`${F}.classID`, 'net_cls.classid', n.classID);
}

export function applyNetPrioV1(dir: CgroupDir, n: LinuxNetwork): void {
  (n.priorities ?? []).forEach((p, i) => {
    const field = `${F}.priorities[${i}]`;
    if (!p.name || /\s/.test(p.name)) throw new ConfigError(`${field}.name: ${JSON.stringify(p.name)} is not an interface name`);
    if (!isInt(p.priority) || p.priority < 0) throw new ConfigError(`${field}.priority: ${p.priority} is not valid`);
    dir.write(field, 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
  });
}
