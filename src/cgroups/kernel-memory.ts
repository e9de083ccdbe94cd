// linux.resources.memory.kernel and kernelTCP: deprecated by the runtime-spec (1.1) and ignored
// by Linux since 5.16 (the v1 kmem files accept a write and change nothing; v2 never had
// them). Configs written by containerd, docker or older tools still carry them, so — as runc
// does — they are dropped with one warning instead of failing the container.
import type { LinuxResources } from '../spec/generated/types.js';

export const KERNEL_MEMORY_WARNING =
  'linux.resources.memory.kernel/kernelTCP: kernel memory limits are deprecated and ignored (Linux 5.16+ ignores them)';

/** Drop kernel/kernelTCP from `r` (in place); the warning to log when either was there. */
export function ignoreKernelMemory(r: LinuxResources | undefined): string | undefined {
  const m = r?.memory;
  if (!m || (m.kernel === undefined && m.kernelTCP === undefined)) return undefined;
  delete m.kernel;
  delete m.kernelTCP;
  return KERNEL_MEMORY_WARNING;
}
