// eventfd(2) and a readiness watch on an fd in Node's event loop (libuv poll through koffi),
// for cgroup v1 memory notifications (cgroup.event_control).
import { readSync } from 'node:fs';
import { check, koffi, libcFn } from './ffi.js';

export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;

export function eventfd(initval: number, flags: number): number {
  return check(libcFn('int eventfd(unsigned int initval, int flags)')(initval, flags), 'eventfd');
}

/** Read an eventfd's counter (resetting it); 0 when nothing is pending (non-blocking fd). */
export function eventfdRead(fd: number): bigint {
  const buf = Buffer.alloc(8);
  try {
    if (readSync(fd, buf, 0, 8, null) !== 8) return 0n;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return 0n;
    throw e;
  }
  return buf.readBigUInt64LE(0);
}

export interface FdWatch {
  /** Stop watching (the fd itself stays open). */
  close(): void;
  /** Let the process exit while the watch is active. */
  unref(): void;
}

/** Call `onReadable` from the event loop each time `fd` becomes readable. */
export function watchReadable(fd: number, onReadable: () => void): FdWatch {
  const handle = koffi.node.poll(fd, { readable: true }, () => onReadable());
  return {
    close: () => handle.close(),
    unref: () => handle.unref(),
  };
}
