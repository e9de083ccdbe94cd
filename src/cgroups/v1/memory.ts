// linux.resources.memory on the v1 memory controller.
//
//   limit         memory.limit_in_bytes        0 = leave, -1 = unlimited
//   swap          memory.memsw.limit_in_bytes  memory+swap (the OCI meaning); -1 unlimited;
//                                              limit -1 with swap unset sets both unlimited (runc)
//   reservation   memory.soft_limit_in_bytes
//   kernel, kernelTCP  never written: deprecated by the runtime-spec and ignored by Linux >= 5.16
//                  (create and update drop them with a warning first, see ignoreKernelMemory)
//   swappiness    memory.swappiness            -1 = leave (docker's "unset")
//   disableOOMKiller  memory.oom_control "1"   (update with false writes "0")
//   useHierarchy  memory.use_hierarchy         (modern kernels refuse 0: the write fails)
//   checkBeforeUpdate  on update, refuse a limit below memory.usage_in_bytes
import { ConfigError, RuntimeError, UnsupportedError } from '../../errors.js';
import type { LinuxMemory } from '../../spec/generated/types.js';
import { type CgroupDir, errnoCode, isInt, parseUint } from '../dir.js';
import type { ApplyContext } from '../host.js';

const F = 'linux.resources.memory';
const LIMIT = 'memory.limit_in_bytes';
const MEMSW = 'memory.memsw.limit_in_bytes';

function int(v: number | undefined, name: string): number {
  if (v === undefined || v === null) return 0;
  if (!isInt(v) || v < -1) throw new ConfigError(`${F}.${name}: ${v} is not a byte count (-1 means unlimited)`);
  return v;
}

function num(v: number | bigint): number {
  return typeof v === 'bigint' ? Number.MAX_SAFE_INTEGER : v;
}

export function applyMemoryV1(dir: CgroupDir, m: LinuxMemory, ctx: ApplyContext): void {
  const limit = int(m.limit, 'limit');
  let swap = int(m.swap, 'swap');
  const reservation = int(m.reservation, 'reservation');

  const hasMemsw = dir.has(MEMSW);
  if (limit === -1 && swap === 0 && hasMemsw) swap = -1;
  if (limit > 0 && swap > 0 && swap < limit) {
    throw new ConfigError(`${F}.swap: memory+swap limit ${swap} must be >= the memory limit ${limit}`);
  }

  if (ctx.update && m.checkBeforeUpdate && limit > 0) {
    const usage = num(parseUint(dir.read('memory.usage_in_bytes', `${F}.checkBeforeUpdate`)));
    if (limit <= usage) {
      throw new RuntimeError(`${F}.limit: rejecting memory limit ${limit} below current usage ${usage} (checkBeforeUpdate)`);
    }
  }

  const setLimit = () => {
    if (limit === 0) return;
    try {
      dir.write(`${F}.limit`, LIMIT, limit);
    } catch (e) {
      if (errnoCode(e) !== 'EBUSY') throw e;
      const usage = dir.readIf('memory.usage_in_bytes');
      const peak = dir.readIf('memory.max_usage_in_bytes');
      throw new RuntimeError(`${F}.limit: unable to set memory limit to ${limit} (current usage: ${usage}, peak usage: ${peak})`, {
        cause: e,
      });
    }
  };
  const setSwap = () => {
    if (swap === 0) return;
    if (!hasMemsw) {
      // No swap accounting. Unlimited asks for nothing; "no swap" holds when the host has none.
      if (swap === -1 || (swap === limit && ctx.host.swapTotal() === 0)) return;
      throw new UnsupportedError(`${F}.swap: this kernel has no swap accounting (${MEMSW} does not exist)`);
    }
    dir.write(`${F}.swap`, MEMSW, swap);
  };
  if (limit !== 0 && swap !== 0 && hasMemsw) {
    // The kernel wants memory <= memsw at every step: raise memsw first when it grows.
    const cur = num(parseUint(dir.read(LIMIT, `${F}.limit`)));
    if (swap === -1 || cur < swap) {
      setSwap();
      setLimit();
    } else {
      setLimit();
      setSwap();
    }
  } else {
    setLimit();
    setSwap();
  }

  if (reservation !== 0) dir.write(`${F}.reservation`, 'memory.soft_limit_in_bytes', reservation);

  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) {
    if (!isInt(m.swappiness) || m.swappiness < 0) throw new ConfigError(`${F}.swappiness: ${m.swappiness} is not valid`);
    dir.write(`${F}.swappiness`, 'memory.swappiness', m.swappiness);
  }
  if (m.disableOOMKiller === true) dir.write(`${F}.disableOOMKiller`, 'memory.oom_control', '1');
  else if (m.disableOOMKiller === false && ctx.update) dir.write(`${F}.disableOOMKiller`, 'memory.oom_control', '0');

  if (m.useHierarchy !== undefined && m.useHierarchy !== null) {
    dir.write(`${F}.useHierarchy`, 'memory.use_hierarchy', m.useHierarchy ? '1' : '0');
  }
}
