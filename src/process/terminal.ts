// The foreground terminal of `run` and `exec -t` without a console socket: we hold the pty
// master ourselves and act as the user's terminal emulator in between, as runc does.
//   - the caller's terminal goes into raw mode (only when stdin is a terminal; cfmakeraw, as
//     runc, so the container's output is not processed twice), so keys such as Ctrl-C reach
//     the container's line discipline, which signals its foreground group;
//   - bytes are copied both ways (stdin → master, master → stdout);
//   - the pty follows our window size: at once, and on every SIGWINCH (TIOCSWINSZ on the
//     master; the kernel then sends SIGWINCH to the container's foreground group itself);
//   - signals sent to us (INT, TERM, HUP, QUIT, USR1, USR2) go to the container's process;
//   - when the process exits, what it wrote is drained (a non-blocking read on the master
//     first flushes the pty's pending buffer work, so nothing is lost), the terminal is
//     restored on every path, and its exit status is returned.
import { readSync } from 'node:fs';
import tty from 'node:tty';
import { getWinSize, isatty, makeRaw, restoreTerminal, setNonBlocking, setWinSize } from '../kernel/pty.js';

/** What a shell would deliver to its foreground job, forwarded to the container's process. */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/**
 * Forward FORWARDED_SIGNALS to `send`. With `onWinch` (a terminal of ours), SIGWINCH resizes
 * instead of being forwarded. Returns the function that removes the handlers.
 */
export function forwardSignals(send: (sig: NodeJS.Signals) => void, onWinch?: () => void): () => void {
  const handlers = FORWARDED_SIGNALS.map((sig) => {
    const h = sig === 'SIGWINCH' && onWinch ? onWinch : () => send(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  };
}

/** The first of our stdio fds that is a terminal (for its window size), or -1. */
function terminalFd(): number {
  for (const fd of [0, 1, 2]) if (isatty(fd)) return fd;
  return -1;
}

/**
 * Copy between our stdio and `master` until `exited` resolves, then drain and restore.
 * `send` delivers a forwarded signal to the container's process. Takes ownership of `master`.
 */
export async function attachTerminal(master: number, exited: Promise<number>, send: (sig: NodeJS.Signals) => void): Promise<number> {
  const sizeFd = terminalFd();
  const resize = () => {
    if (sizeFd < 0) return;
    const size = getWinSize(sizeFd);
    try {
      if (size && size.rows > 0 && size.cols > 0) setWinSize(master, size);
    } catch {
      /* the pty is gone */
    }
  };
  resize();

  const stdin = process.stdin;
  // Raw mode as cfmakeraw (runc's), on the terminal itself: every fd of ours on it sees it.
  let saved: Buffer | undefined;
  const restore = () => {
    if (!saved) return;
    try {
      restoreTerminal(0, saved);
    } catch {
      /* the terminal is gone */
    }
    saved = undefined;
  };
  // Even a crash on the way out must not leave the user's terminal raw.
  process.once('exit', restore);
  const unforward = forwardSignals(send, resize);

  const pty = new tty.ReadStream(master);
  let ended = false;
  pty.on('data', (d: Buffer) => process.stdout.write(d));
  pty.on('end', () => (ended = true));
  // EIO: every slave fd is closed (the container is gone); anything else ends the copy too.
  pty.on('error', () => (ended = true));
  const onInput = (d: Buffer) => {
    if (!ended) pty.write(d);
  };
  try {
    if (isatty(0)) saved = makeRaw(0);
    stdin.on('data', onInput);
    stdin.on('error', () => stdin.removeListener('data', onInput));
    stdin.resume();

    const status = await exited;

    // Drain: what the stream holds, then what the kernel holds (libuv keeps a pty master
    // blocking; our reads must not wait for a writer that may never come).
    pty.pause();
    if (!ended) {
      setNonBlocking(master);
      for (let chunk = pty.read() as Buffer | null; chunk; chunk = pty.read() as Buffer | null) process.stdout.write(chunk);
      const buf = Buffer.allocUnsafe(64 * 1024);
      for (;;) {
        let n: number;
        try {
          n = readSync(master, buf, 0, buf.length, null);
        } catch {
          break; // EAGAIN: drained; EIO: the slave is closed
        }
        if (n <= 0) break;
        process.stdout.write(Buffer.from(buf.subarray(0, n)));
      }
    }
    return status;
  } finally {
    unforward();
    stdin.removeListener('data', onInput);
    stdin.pause();
    restore();
    process.removeListener('exit', restore);
    pty.destroy();
    // stdin must not keep the event loop (and so the runtime) alive after the container exits.
    if (typeof (stdin as { unref?: () => void }).unref === 'function') (stdin as { unref: () => void }).unref();
  }
}
