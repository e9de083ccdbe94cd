// The parent ↔ init protocol: a closed set of JSON messages over one SOCK_SEQPACKET
// socketpair (each write is one message, so no framing is needed).
//
//   parent → init   config      the whole InitConfig, once, first
//   init → parent   namespaces  the init has its namespaces; the parent runs prestart and
//                               createRuntime hooks (they need /proc/<pid>/ns/*)
//   parent → init   continue    hooks done, go on with the rootfs
//   init → parent   ready       rootfs done, cgroup joined, executable found; the init now
//                               blocks on exec.fifo until `start`
//   init → parent   error       anything failed before `ready`; the message is one line
//
// EOF on either side means the other is gone: the parent reports the init's death, the init
// exits (a runtime killed mid-create leaves no orphan behind).
import { readSync, writeSync } from 'node:fs';
import type { InitConfig } from './init-config.js';

export type ToInit = { type: 'config'; config: InitConfig } | { type: 'continue' };

export type FromInit =
  | { type: 'namespaces' }
  | { type: 'ready' }
  | { type: 'error'; message: string };

const MAX_MESSAGE = 1 << 20;
let buffer: Buffer | undefined;

/** One message, one write (the exec helper's protocol uses the same framing). */
export function send<T extends object = ToInit | FromInit>(fd: number, msg: T): void {
  const data = Buffer.from(JSON.stringify(msg));
  if (data.length > MAX_MESSAGE) throw new Error(`protocol: message of ${data.length} bytes is too large`);
  writeSync(fd, data);
}

/** Blocking receive; null on EOF (the peer closed, died, or exec'd with our end close-on-exec). */
export function receive<T extends object = ToInit | FromInit>(fd: number): T | null {
  buffer ??= Buffer.allocUnsafe(MAX_MESSAGE);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, MAX_MESSAGE, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINTR' || code === 'EAGAIN') continue;
      if (code === 'ECONNRESET') return null;
      throw e;
    }
    if (n === 0) return null;
    return JSON.parse(buffer.toString('utf8', 0, n)) as T;
  }
}
