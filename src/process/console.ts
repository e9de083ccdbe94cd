// The console socket (process.terminal), the runtime's side.
//
// Inside the container the native init (CONSOLE step) opens a pty in the container's own
// devpts, makes the slave the process's 0/1/2 and controlling terminal, and hands the master
// to whoever listens on the console socket, as runc does: ONE sendmsg whose data is the
// master's name ("/dev/ptmx") and whose only control message is SCM_RIGHTS carrying exactly
// the master fd (containerd's shim, go-runc ReceiveMaster, rejects any other shape, and
// accepts only after the runtime has exited, so nobody waits for a reply).
//
// Here: connecting to a --console-socket path (an error here is one line, before anything is
// spawned; the connected socket travels to the init with its plan), and, for a foreground
// `run` with a terminal, a listener of our own in a private temp directory that receives the
// master like any other client would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeError, UsageError } from '../errors.js';
import { KernelError } from '../kernel/ffi.js';
import { close } from '../kernel/process.js';
import { accept, bind, connectUnix, listen, recvFd, socket, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../kernel/socket.js';


/** What runc sends as the data of the console message (the master's own name). */
export const MASTER_NAME = '/dev/ptmx';

/** Connect to the console socket a client listens on; the one-line error names the flag. */
export function connectConsoleSocket(path: string): number {
  try {
    return connectUnix(path);
  } catch (e) {
    if (e instanceof KernelError) {
      throw new UsageError(`--console-socket ${path}: cannot connect: ${e.message.replace(/^connect \S+: /, '')}`);
    }
    throw new UsageError(`--console-socket ${path}: ${(e as Error).message}`);
  }
}

/** A console socket of our own (foreground `run` with a terminal): a listener in a private dir. */
export class ConsoleListener {
  readonly dir: string;
  readonly path: string;
  private fd: number;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'mydocker-console-'));
    this.path = join(this.dir, 'console.sock');
    // Non-blocking: by the time we accept, the init has connected and sent; if it has not,
    // we must fail, not hang.
    this.fd = socket(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
    try {
      bind(this.fd, this.path);
      listen(this.fd, 1);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The pty master the container sent (close-on-exec). */
  receiveMaster(): number {
    let conn: number;
    try {
      conn = accept(this.fd);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'EAGAIN') {
        throw new RuntimeError('process.terminal: the container did not send its terminal');
      }
      throw e;
    }
    try {
      return receiveMasterFrom(conn);
    } finally {
      close(conn);
    }
  }

  close(): void {
    if (this.fd >= 0) {
      close(this.fd);
      this.fd = -1;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Read the one console message from a connected socket; its single fd is the master. */
export function receiveMasterFrom(sock: number): number {
  const msg = recvFd(sock);
  if (!msg || msg.fd < 0) throw new RuntimeError('process.terminal: the container did not send its terminal');
  if (msg.count !== 1) {
    close(msg.fd);
    throw new RuntimeError(`process.terminal: expected one fd on the console socket, got ${msg.count}`);
  }
  return msg.fd;
}
