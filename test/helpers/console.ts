// A console-socket receiver for tests, shaped like containerd's shim (go-runc's
// NewTempConsoleSocket/ReceiveMaster): listen on a path, accept once the runtime has exited,
// read ONE message and require exactly one SCM_RIGHTS fd in it. Node cannot receive fds, so
// this goes through the runtime's kernel seam (src/kernel/socket.ts).
import { closeSync, mkdtempSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accept, bind, listen, recvFd, socket, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/kernel/socket.js';
import { setNonBlocking } from '../../src/kernel/pty.js';

export interface ReceivedMaster {
  fd: number;
  /** The message's data (runc sends "/dev/ptmx"). */
  name: string;
  /** fds the message carried (go-runc insists on exactly 1). */
  count: number;
}

export class ConsoleReceiver {
  readonly dir: string;
  readonly path: string;
  private fd: number;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'mydocker-test-console-'));
    this.path = join(this.dir, 'pty.sock');
    this.fd = socket(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
    bind(this.fd, this.path);
    listen(this.fd, 4);
  }

  /** Accept the runtime's connection (already queued) and receive the master; null if nobody connected. */
  receive(): ReceivedMaster | null {
    let conn: number;
    try {
      conn = accept(this.fd);
    } catch {
      return null;
    }
    try {
      const msg = recvFd(conn);
      if (!msg) return null;
      return { fd: msg.fd, name: msg.data, count: msg.count };
    } finally {
      closeSync(conn);
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Talk to a pty master: write `input`, then read until `until` matches what came back (or
 * the deadline passes; the caller asserts on the text, never on the time).
 */
export async function converse(master: number, input: string, until: RegExp, timeoutMs = 10_000): Promise<string> {
  setNonBlocking(master);
  if (input) writeSync(master, input);
  const buf = Buffer.alloc(4096);
  let out = '';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let n = 0;
    try {
      n = readSync(master, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EIO') break; // the other side is gone
      if (code !== 'EAGAIN') throw e;
    }
    if (n > 0) {
      out += buf.toString('utf8', 0, n);
      if (until.test(out)) return out;
    } else await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}
