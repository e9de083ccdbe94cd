// seccomp(2): load a classic BPF filter on the calling thread, and ask the kernel what it
// supports. The filter applies to the calling thread only (no TSYNC: the Node init's other
// threads die at execve, and the filter carries over it to the container's process).
import { check, KernelError, koffi, libcFn, syscallNumber } from './ffi.js';

export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_GET_ACTION_AVAIL = 2;
export const SECCOMP_GET_NOTIF_SIZES = 3;

const EFAULT = 14;
const EINVAL = 22;
const EOPNOTSUPP = 95;

function seccomp(op: number, flags: number, arg: Buffer | null): number {
  const sc = libcFn('long syscall(long number, ...)');
  return Number(sc(syscallNumber('seccomp'), 'unsigned int', op, 'unsigned int', flags, 'void *', arg));
}

/** Whether the kernel knows the SECCOMP_RET_* action `action` (SECCOMP_GET_ACTION_AVAIL, Linux 4.14). */
export function seccompActionAvailable(action: number): boolean {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(action >>> 0, 0);
  const ret = seccomp(SECCOMP_GET_ACTION_AVAIL, 0, buf);
  if (ret === 0) return true;
  const errno = koffi.errno();
  if (errno === EOPNOTSUPP || errno === EINVAL) return false;
  throw new KernelError('seccomp', errno, 'SECCOMP_GET_ACTION_AVAIL');
}

/**
 * Whether the kernel accepts SECCOMP_FILTER_FLAG_* `flag`: SET_MODE_FILTER with a NULL program
 * checks the flags first (EINVAL for unknown ones) and then faults on the program (EFAULT),
 * installing nothing. libseccomp probes the same way.
 */
export function seccompFlagSupported(flag: number): boolean {
  const ret = seccomp(SECCOMP_SET_MODE_FILTER, flag, null);
  if (ret >= 0) throw new Error('seccomp: a NULL filter was accepted');
  const errno = koffi.errno();
  if (errno === EFAULT) return true;
  if (errno === EINVAL) return false;
  throw new KernelError('seccomp', errno, `probing flag 0x${flag.toString(16)}`);
}

/** The `Seccomp:` mode of a /proc/<pid>/status (0 none, 1 strict, 2 filter), for checks and tests. */
export function seccompModeOf(statusText: string): number | undefined {
  const m = /^Seccomp:\s+(\d+)/m.exec(statusText);
  return m ? Number(m[1]) : undefined;
}
