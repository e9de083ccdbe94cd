// A container in the foreground of the caller's terminal: its output on our stdout/stderr as
// it comes (through conmon's attach socket, connected before the process starts, so nothing
// is missed), our stdin to it with -i, our terminal in raw mode with -t (resized with
// SIGWINCH), and — without a terminal — the signals a shell sends its foreground job
// forwarded to the container's process (docker's --sig-proxy).
import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { attach, resizeTerminal, type Attached, type Monitor } from '../containers/monitor.js';
import { shortId } from '../containers/store.js';

export interface ForegroundOptions {
  stdin: boolean;
  tty: boolean;
}

/** Our terminal's size, for a container's terminal to start with (-t in the foreground). */
export function terminalSize(): { height: number; width: number } | undefined {
  return process.stdout.isTTY && process.stdout.rows > 0 ? { height: process.stdout.rows, width: process.stdout.columns } : undefined;
}

export interface Session {
  /** Called by startContainer once the monitor has created the container, before start. */
  beforeStart(monitor: Monitor): void;
  /** Resolves when the output has ended and the monitor has recorded the exit. */
  done(): Promise<void>;
  /** Restore the terminal and stop forwarding (also on errors). */
  close(): void;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function foreground(engine: Engine, id: string, opts: ForegroundOptions): Session {
  let attached: Attached | undefined;
  let monitor: Monitor | undefined;
  const cleanups: (() => void)[] = [];
  const bundle = join(engine.containers.path(id), 'bundle');
  return {
    beforeStart(m: Monitor) {
      monitor = m;
      attached = attach(engine.paths.monitors, shortId(id), (stream, data) => {
        (stream === 'stderr' && !opts.tty ? process.stderr : process.stdout).write(data);
      });
      const a = attached;
      if (opts.tty && process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        cleanups.push(() => process.stdin.setRawMode(false));
      }
      if (opts.tty && process.stdout.isTTY) {
        const resize = () => resizeTerminal(bundle, process.stdout.rows, process.stdout.columns);
        process.on('SIGWINCH', resize);
        cleanups.push(() => process.off('SIGWINCH', resize));
      }
      if (opts.stdin) {
        const onData = (d: Buffer) => a.write(d);
        const onEnd = () => a.closeStdin();
        process.stdin.on('data', onData);
        process.stdin.on('end', onEnd);
        cleanups.push(() => {
          process.stdin.off('data', onData);
          process.stdin.off('end', onEnd);
          process.stdin.pause();
          process.stdin.unref?.();
        });
      }
      if (!opts.tty) {
        const handlers = FORWARDED.map((sig) => {
          const h = () => {
            try {
              engine.runtime.kill(id, sig);
            } catch {
              /* already gone */
            }
          };
          process.on(sig, h);
          return [sig, h] as const;
        });
        cleanups.push(() => handlers.forEach(([sig, h]) => process.off(sig, h)));
      }
    },
    async done() {
      if (!attached || !monitor) return;
      await Promise.all([attached.ended, monitor.exited]);
    },
    close() {
      for (const c of cleanups.splice(0)) {
        try {
          c();
        } catch {
          /* best effort */
        }
      }
      attached?.close();
    },
  };
}
