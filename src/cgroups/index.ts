// src/cgroups: the container's cgroup on any layout (v1, hybrid, v2) behind one interface.
//
//   const cg = cgroupManager({ id, cgroupsPath, systemd });
//   cg.create(config.linux?.resources);     // dirs + limits, or an error naming the field
//   state.cgroup = cg.record();             // persist: paths + what create() made
//   ... the init writes its pid into cg.procsFiles() just before execve ...
//   cgroupManager(state.cgroup).destroy();  // later, from another process
export { FsCgroupManager, type ManagerOptions } from './fs-manager.js';
export { detectLayout, type Layout, parseMountinfo } from './layout.js';
export type { CgroupLayout, CgroupManager, CgroupSpec, CgroupStats } from './manager.js';
export { DEFAULT_DEVICE_RULES, withDefaultDevices } from './devices.js';
export { DEFAULT_PARENT, SYSTEMD_UNSUPPORTED } from './paths.js';
export { statsToJSON } from './stats.js';
export { ignoreKernelMemory } from './kernel-memory.js';

import { FsCgroupManager, type ManagerOptions } from './fs-manager.js';
import type { CgroupManager, CgroupSpec } from './manager.js';

/** The manager for this host's layout (cgroupfs driver). */
export function cgroupManager(spec: CgroupSpec, opts?: ManagerOptions): CgroupManager {
  return new FsCgroupManager(spec, opts);
}
