// The console socket (process.terminal), both ends.
//
// Inside the container (the init after pivot_root, the exec helper after joining the mount
// namespace): open a pty in the container's own devpts (/dev/ptmx → pts/ptmx), make the slave
// the process's 0/1/2 and controlling terminal, and hand the master to whoever listens on the
// console socket, as runc does: connect() (done by the runtime, which passes the connected
// socket down), then ONE sendmsg whose data is the master's name ("/dev/ptmx") and whose only
// control message is SCM_RIGHTS carrying exactly the master fd. containerd's shim (go-runc
// ReceiveMaster) rejects any other shape; it accepts only after the runtime has exited, so we
// never wait for a reply.
//
// On the runtime's side: connecting to a --console-socket path (an error here is one line,
// before anything is spawned), and, for a foreground `run` with a terminal, a listener of our
// own in a private temp directory that receives the master like any other client would.
import { closeSync, lstatSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeError, UsageError, wrap } from '../errors.js';
import { KernelError } from '../kernel/ffi.js';
import { O_CLOEXEC, O_NOFOLLOW, O_WRONLY, open } from '../kernel/files.js';
import { mount, MS_BIND } from '../kernel/mount.js';
import { close, dup2 } from '../kernel/process.js';
import { openPty, setControllingTerminal, setWinSize } from '../kernel/pty.js';
import { accept, bind, connectUnix, listen, recvFd, sendFd, socket, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../kernel/socket.js';

const O_CREAT = 0o100;
const O_EXCL = 0o200;

/** What runc sends as the data of the console message (the master's own name). */
export const MASTER_NAME = '/dev/ptmx';

export interface ConsoleOptions {
  /** process.consoleSize. */
  size?: { height: number; width: number } | undefined;
  /** Bind the slave over /dev/console (the init of a new container, as runc does; not exec). */
  mountConsole: boolean;
}

/**
 * In the container's mount namespace, as a session leader: create the pty, make the slave our
 * stdio and controlling terminal, and send the master down `socketFd` (closed afterwards).
 * Returns the slave's name (/dev/pts/N).
 */
export function setUpConsole(socketFd: number, opts: ConsoleOptions): string {
  let pty;
  try {
    pty = openPty('/dev/ptmx');
  } catch (e) {
    throw wrap(e, 'process.terminal: open a pty in the container');
  }
  try {
    if (opts.size && opts.size.height > 0 && opts.size.width > 0) {
      setWinSize(pty.master, { rows: opts.size.height, cols: opts.size.width });
    }
    if (opts.mountConsole) mountConsole(pty.name);
    try {
      sendFd(socketFd, pty.master, MASTER_NAME);
    } catch (e) {
      throw wrap(e, 'send the pty master to the console socket');
    }
    for (const fd of [0, 1, 2]) dup2(pty.slave, fd);
    setControllingTerminal(0);
    return pty.name;
  } finally {
    close(pty.master);
    close(pty.slave);
    close(socketFd);
  }
}

/** /dev/console: an empty file with the slave bind-mounted over it (runc's mountConsole). */
function mountConsole(slave: string): void {
  const path = '/dev/console';
  try {
    // Never follow a link a rootfs may have put there.
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch {
    /* absent */
  }
  try {
    closeSync(open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666));
  } catch (e) {
    if (!(e instanceof KernelError && e.code === 'EEXIST')) throw wrap(e, 'create /dev/console');
  }
  try {
    mount(slave, path, null, MS_BIND);
  } catch (e) {
    throw wrap(e, `bind ${slave} on /dev/console`);
  }
}

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
