// The per-container monitor: conmon (Debian's, podman's), ~2 MiB resident while the container
// runs. It is what stays with a detached container once mydocker has exited: it holds the
// container's stdio, writes the log (CRI "k8s-file" lines: time, stream, partial flag, text),
// reaps the container's process, writes its exit status to a file, and then runs our cleanup
// command (`mydocker container cleanup <id>`), which records the exit and releases the mounts,
// the cgroup and, with --rm, the container itself.
//
// conmon creates the container by running the runtime's CLI (`mydocker-runc create`), the
// runtime's public contract for a monitor that outlives us; everything else mydocker does to a
// container goes through the runtime's library in-process (container/runtime.ts).
//
// The protocol, as podman speaks it (conmon --api-version 1):
//   - fd 3 of conmon is a pipe named by _OCI_SYNCPIPE: conmon writes one JSON line once the
//     runtime's create returned, {"data": <container pid>} or {"data": -1, "message": "<the
//     runtime's stderr>"}; it keeps the pipe open until the container has exited and its exit
//     file is written, so EOF on it means "exited, status on disk".
//   - <socket dir>/<short id>/attach (a symlink to the bundle dir, so the path fits sun_path):
//     a SOCK_SEQPACKET socket; each message conmon sends is one byte of stream (2 stdout,
//     3 stderr) and the data; what a client sends goes to the container's stdin (-i), and a
//     client's shutdown(SHUT_WR) closes that stdin.
//   - <bundle>/ctl: a FIFO taking "1 <rows> <cols>\n" to resize the terminal.
//   - <exit dir>/<id>: the exit status (128+signal when killed), written once.
import { spawn } from 'node:child_process';
import { closeSync, constants, createReadStream, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { connect, SHUT_RD, SHUT_WR, shutdown, socket, SOCK_CLOEXEC, SOCK_SEQPACKET } from '../../kernel/socket.js';
import { dupCloexec } from '../../kernel/process.js';
import { MydockerError } from '../errors.js';

export interface MonitorOptions {
  id: string;
  /** The attach socket's directory name (short: sun_path is 108 bytes). */
  shortId: string;
  name: string;
  bundle: string;
  pidFile: string;
  conmonPidFile: string;
  exitDir: string;
  socketDir: string;
  logPath: string;
  /** --log-driver none: conmon keeps no log (attach still sees the output). */
  noLog?: boolean;
  /** --log-opt max-size: conmon starts the log afresh past this many bytes (docker's max-file=1). */
  logSizeMax?: number;
  runtimePath: string;
  runtimeArgs: string[];
  tty: boolean;
  stdin: boolean;
  /**
   * Keep the container's stdin open when an attached client goes (so that `attach` and the
   * detach keys leave a shell running); without it an attach client's EOF closes the
   * container's stdin (`echo x | run -i … cat` ends).
   */
  leaveStdinOpen?: boolean;
  exitCommand: string[];
  env: NodeJS.ProcessEnv;
  /** conmon's working directory: it drops an "oom" file there when the cgroup OOM-kills. */
  cwd: string;
  /**
   * fds conmon keeps open for the container's life (from its fd 4 on): the sockets holding
   * published host ports. conmon never reads them; the runtime's init closes them before the
   * container's process runs.
   */
  extraFds?: number[];
}

export interface Monitor {
  /** Host pid of the container's process. */
  pid: number;
  /** Resolves when the container has exited and its exit file is written (sync pipe EOF). */
  exited: Promise<void>;
  /** Stop waiting for the exit (detach): our end of the sync pipe is closed. */
  release(): void;
}

export const CONMON = '/usr/bin/conmon';

export function conmonArgs(o: MonitorOptions): string[] {
  const args = [
    '--api-version', '1',
    '-c', o.id,
    '-u', o.shortId,
    '-n', o.name,
    '-r', o.runtimePath,
    '-b', o.bundle,
    '-p', o.pidFile,
    '-P', o.conmonPidFile,
    '--exit-dir', o.exitDir,
    '--socket-dir-path', o.socketDir,
    '-l', o.noLog ? 'none:' : `k8s-file:${o.logPath}`,
    ...(o.logSizeMax ? ['--log-size-max', String(o.logSizeMax)] : []),
    '--log-level', 'error',
    '--no-sync-log',
  ];
  for (const a of o.runtimeArgs) args.push('--runtime-arg', a);
  if (o.tty) args.push('-t');
  if (o.stdin) args.push('-i');
  if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open');
  const [cmd, ...rest] = o.exitCommand;
  if (cmd) {
    args.push('--exit-command', cmd);
    for (const a of rest) args.push('--exit-command-arg', a);
  }
  return args;
}

/**
 * Start conmon and wait until the runtime has created the container. A failed create rejects
 * with the runtime's own message (conmon relays its stderr).
 */
export function startMonitor(o: MonitorOptions): Promise<Monitor> {
  return new Promise((resolve, reject) => {
    const child = spawn(CONMON, conmonArgs(o), {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', ...(o.extraFds ?? [])],
      env: { ...o.env, _OCI_SYNCPIPE: '3' },
      cwd: o.cwd,
    });
    const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new MydockerError(`start the monitor ${CONMON}: ${e.message} (apt-get install conmon)`)));
    let buf = '';
    let settled = false;
    let exitedResolve!: () => void;
    const exited = new Promise<void>((r) => (exitedResolve = r));
    sync.on('data', (d: Buffer) => {
      if (settled) return;
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      settled = true;
      let msg: { data?: number; message?: string };
      try {
        msg = JSON.parse(buf.slice(0, nl)) as typeof msg;
      } catch {
        reject(new MydockerError(`monitor: unexpected message ${JSON.stringify(buf.slice(0, nl))}`));
        return;
      }
      if (typeof msg.data !== 'number' || msg.data <= 0) {
        reject(new MydockerError(runtimeMessage(msg.message ?? `the runtime failed to create the container (status ${msg.data})`)));
        return;
      }
      resolve({
        pid: msg.data,
        exited,
        release: () => sync.destroy(),
      });
    });
    sync.on('end', () => {
      exitedResolve();
      if (!settled) {
        settled = true;
        // conmon died before reporting: its own stderr says why (a bad option, a missing runtime).
        // Its daemon half says nothing when the runtime could not even be executed.
        setTimeout(() => reject(new MydockerError(`monitor: conmon exited before the container was created: ${stderr.trim() ? stderr.trim().split('\n').pop() : `is ${o.runtimePath} runnable? (conmon logs to syslog)`}`)), 20);
      }
    });
    sync.on('error', () => exitedResolve());
  });
}

/** The runtime's one line, without its program-name prefix ("mydocker-runc: …"). */
export function runtimeMessage(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  // The runtime's error is its last line that is not a warning (poststop hooks that a failed
  // create ran warn before it).
  const ours = lines.filter((l) => l.includes('mydocker-runc:') && !/mydocker-runc:\s*warning:/.test(l));
  const last = ours[ours.length - 1] ?? lines[lines.length - 1] ?? text;
  return last.replace(/^.*?mydocker-runc:\s*/, '').trim();
}

/**
 * docker's exit codes for a command that could not be run: 127 when it is not there, 126 when
 * it cannot be executed; null for any other failure (mydocker's own: 125). Only the runtime's
 * exec errors count (`exec: "cmd": …`), never a "not found" elsewhere in a message.
 */
export function execFailureCode(message: string): 126 | 127 | null {
  const m = /exec: ".*?": (.*)$/m.exec(message);
  if (!m) return null;
  if (/executable file not found|no such file or directory/i.test(m[1]!)) return 127;
  if (/permission denied|exec format error|is a directory/i.test(m[1]!)) return 126;
  return null;
}

/** The container's exit status from conmon's exit file, or null when it has not exited. */
export function readExitFile(exitDir: string, id: string): { code: number; at: Date } | null {
  const p = join(exitDir, id);
  try {
    const text = readFileSync(p, 'utf8').trim();
    if (!/^-?\d+$/.test(text)) return null;
    return { code: Number(text), at: statSync(p).mtime };
  } catch {
    return null;
  }
}

export interface Attached {
  /** Send data to the container's stdin (chunked to conmon's buffer). */
  write(data: Buffer): void;
  /** Close the container's stdin (shutdown our write side). */
  closeStdin(): void;
  /** Resolves when conmon closes the socket (the container's output has ended). */
  ended: Promise<void>;
  close(): void;
}

const STDOUT = 2;
const STDERR = 3;
/** conmon reads the attach socket 8 KiB at a time; a larger SEQPACKET message would be cut. */
const CHUNK = 8192;

/**
 * Connect to a container's attach socket; output is delivered as it comes. node:net cannot
 * wrap a SEQPACKET socket, so reads go through an fs stream (one read per message, on the
 * threadpool) and writes are plain write(2)s — each one message, as conmon expects.
 */
export function attach(socketDir: string, shortId: string, out: (stream: 'stdout' | 'stderr', data: Buffer) => void): Attached {
  const fd = socket(SOCK_SEQPACKET | SOCK_CLOEXEC);
  try {
    connect(fd, join(socketDir, shortId, 'attach'));
  } catch (e) {
    closeSync(fd);
    throw new MydockerError(`attach: ${(e as Error).message}`);
  }
  // The read stream owns `fd` (and closes it at EOF); writes go through a duplicate of our own,
  // so a write can never land on a number the stream has closed and the process reused.
  let wfd = -1;
  try {
    wfd = dupCloexec(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const input = createReadStream('', { fd, highWaterMark: 65536 });
  const ended = new Promise<void>((resolve) => {
    input.on('end', () => resolve());
    input.on('error', () => resolve());
    input.on('close', () => resolve());
  });
  input.on('data', (chunk: Buffer | string) => {
    const msg = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!msg.length) return;
    const kind = msg[0];
    const data = msg.subarray(1);
    if (kind === STDOUT) out('stdout', data);
    else if (kind === STDERR) out('stderr', data);
  });
  return {
    write(data: Buffer) {
      if (wfd < 0) return;
      for (let off = 0; off < data.length; off += CHUNK) {
        try {
          writeSync(wfd, data, off, Math.min(CHUNK, data.length - off));
        } catch {
          return; // conmon went away: the container has exited
        }
      }
    },
    closeStdin() {
      if (wfd < 0) return;
      try {
        shutdown(wfd, SHUT_WR);
      } catch {
        /* gone */
      }
    },
    ended,
    close() {
      if (wfd >= 0) {
        // The read stream's read(2) blocks on the threadpool until a message comes, which keeps
        // the process alive after a detach from an idle container: SHUT_RD ends it at once
        // (and only stops conmon sending to us; the container's stdin is left as it is).
        try {
          shutdown(wfd, SHUT_RD);
        } catch {
          /* gone */
        }
        closeSync(wfd);
        wfd = -1;
      }
      input.destroy();
    },
  };
}

/** Resize the container's terminal through conmon's control FIFO. */
export function resizeTerminal(bundle: string, rows: number, cols: number): void {
  let fd: number;
  try {
    // Non-blocking: with no reader (conmon gone) open fails with ENXIO instead of hanging.
    fd = openSync(join(bundle, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return; // the container is gone
  }
  try {
    writeSync(fd, `1 ${rows} ${cols}\n`);
  } catch {
    /* conmon gone */
  } finally {
    closeSync(fd);
  }
}

export function monitorPid(conmonPidFile: string): number {
  try {
    const n = Number(readFileSync(conmonPidFile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

export const socketPathFits = (socketDir: string, shortId: string) => Buffer.byteLength(join(socketDir, shortId, 'attach')) < 108;
