// linux.resources.memory on the cgroup v2 memory controller.
//
//   limit         memory.max        -1 → "max", 0 → leave
//   reservation   memory.low
//   swap          memory.swap.max = swap - limit (OCI swap is memory+swap; v2 counts swap
//                 alone). limit -1 with swap unset → both unlimited; swap == limit → "0".
//                 Without memory.swap.max (no swap accounting): "max" asks for nothing, and
//                 "0" holds when the host has no swap at all; anything else is refused.
//   checkBeforeUpdate  on update, refuse a limit at or below memory.current
// Refused on v2 (the files do not exist; never ignored):
//   swappiness (other than -1), disableOOMKiller: true, useHierarchy: false.
// kernel and kernelTCP are dropped with a warning before we get here (ignoreKernelMemory).
import { ConfigError, RuntimeError, UnsupportedError } from '../../errors.js';
import type { LinuxMemory } from '../../spec/generated/types.js';
import { type CgroupDir, isInt, parseUint } from '../dir.js';
import type { ApplyContext } from '../host.js';

const F = 'linux.resources.memory';

function int(v: number | undefined, name: string): number {
  if (v === undefined || v === null) return 0;
  if (!isInt(v) || v < -1) throw new ConfigError(`${F}.${name}: ${v} is not a byte count (-1 means unlimited)`);
  return v;
}

const numToStr = (v: number): string => (v === -1 ? 'max' : String(v));

/** OCI memory+swap → the v2 memory.swap.max value (runc's ConvertMemorySwapToCgroupV2Value). */
export function swapToV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) throw new ConfigError(`${F}.swap: a swap limit needs a memory limit`);
  if (swap < limit) throw new ConfigError(`${F}.swap: memory+swap limit ${swap} must be >= the memory limit ${limit}`);
  return swap - limit;
}

export function applyMemoryV2(dir: CgroupDir, m: LinuxMemory, ctx: ApplyContext): void {
  const limit = int(m.limit, 'limit');
  const swapIn = int(m.swap, 'swap');
  const reservation = int(m.reservation, 'reservation');
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) {
    throw new UnsupportedError(`${F}.swappiness: cgroup v2 has no per-cgroup swappiness`);
  }
  if (m.disableOOMKiller === true) {
    throw new UnsupportedError(`${F}.disableOOMKiller: cgroup v2 cannot disable the OOM killer for a cgroup`);
  }
  if (m.useHierarchy === false) throw new UnsupportedError(`${F}.useHierarchy: cgroup v2 is always hierarchical`);

  if (!dir.has('memory.max')) {
    throw new UnsupportedError(`${F}: the memory controller is not enabled in ${dir.path} (no memory.max)`);
  }
  const hasSwapMax = dir.has('memory.swap.max');
  // A swap limit without an explicit swap: keep the swap as it is (limit alone is set).
  const swapSet = swapIn !== 0 || limit === -1;
  const swap = swapSet ? swapToV2(swapIn, limit) : 0;
  let swapStr = '';
  if (swap === -1) swapStr = 'max';
  else if (swap > 0) swapStr = String(swap);
  else if (swapIn > 0) swapStr = '0'; // swap == limit: no swap at all

  if (ctx.update && m.checkBeforeUpdate && limit > 0) {
    const cur = parseUint(dir.read('memory.current', `${F}.checkBeforeUpdate`));
    const usage = typeof cur === 'bigint' ? Number.MAX_SAFE_INTEGER : cur;
    if (limit <= usage) {
      throw new RuntimeError(`${F}.limit: rejecting memory limit ${limit} below current usage ${usage} (checkBeforeUpdate)`);
    }
  }

  if (swapStr) {
    if (hasSwapMax) dir.write(`${F}.swap`, 'memory.swap.max', swapStr);
    else if (!(swapStr === 'max' || (swapStr === '0' && ctx.host.swapTotal() === 0))) {
      throw new UnsupportedError(`${F}.swap: this kernel has no swap accounting (memory.swap.max does not exist)`);
    }
  }
  if (limit !== 0) dir.write(`${F}.limit`, 'memory.max', numToStr(limit));
  if (reservation !== 0) dir.write(`${F}.reservation`, 'memory.low', numToStr(reservation));
}
