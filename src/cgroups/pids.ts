// linux.resources.pids.limit → pids.max (the same file on v1 and v2).
// Like runc: 0 leaves the limit as it is (a new cgroup starts at "max"), -1 (or any negative)
// writes "max", a positive number is the limit.
import { ConfigError } from '../errors.js';
import type { LinuxPids } from '../spec/generated/types.js';
import { type CgroupDir, isInt } from './dir.js';

export function applyPids(dir: CgroupDir, p: LinuxPids): void {
  const limit = p.limit;
  if (limit === undefined || limit === null || limit === 0) return;
  if (!isInt(limit)) throw new ConfigError(`linux.resources.pids.limit: ${limit} is not an integer`);
  dir.write('linux.resources.pids.limit', 'pids.max', limit > 0 ? limit : 'max');
}
