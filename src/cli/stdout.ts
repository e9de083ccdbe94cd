// A verb's output, written straight to fd 1.
//
// process.stdout is a stream built on first use: for a file or a pipe that means loading
// node:stream (and node:net for a pipe), ~3 ms of a ~35 ms `state`, for one write of a few
// hundred bytes. A synchronous write(2) loop does the same job; it waits out EAGAIN (a
// non-blocking pipe whose reader is slow) with poll(2) rather than spinning.
import { writeSync } from 'node:fs';
import { KernelError } from '../kernel/ffi.js';
import { pollOne } from '../kernel/process.js';

const POLLOUT = 0x4;

export function writeStdout(text: string): void {
  const data = Buffer.from(text);
  for (let off = 0; off < data.length; ) {
    try {
      off += writeSync(1, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      try {
        pollOne(1, POLLOUT, 1000);
      } catch (pe) {
        if (!(pe instanceof KernelError && pe.code === 'EINTR')) throw pe;
      }
    }
  }
}
