// A container in the foreground of the caller's terminal: its output on our stdout/stderr as
// it comes (through conmon's attach socket, connected before the process starts, so nothing
// is missed), our stdin to it with -i, our terminal in raw mode with -t (resized with
// SIGWINCH), and — without a terminal — the signals a shell sends its foreground job
// forwarded to the container's process (docker's --sig-proxy).
import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { attach, resizeTerminal, type Attached, type Monitor } from '../containers/monitor.js';
import { shortId } from '../containers/store.js';
import { InputError } from '../errors.js';

export interface ForegroundOptions {
  stdin: boolean;
  tty: boolean;
  /** Forward the signals a shell sends its job (without a terminal; docker's --sig-proxy, default on). */
  sigProxy?: boolean;
  /** Typed on stdin, these bytes detach us and leave the container running (docker's ctrl-p,ctrl-q). */
  detachKeys?: Buffer;
  /** run -a: the output streams shown (default both); the others are only in the log. */
  streams?: ReadonlySet<'stdout' | 'stderr'>;
}

/** docker's default detach sequence, ctrl-p ctrl-q. */
export const DEFAULT_DETACH_KEYS = Buffer.from([0x10, 0x11]);

/**
 * --detach-keys as docker spells it: "ctrl-p,ctrl-q", "ctrl-a,x", "ctrl-@"… — a comma list of
 * single characters or ctrl-<letter|@|[|\\|]|^|_>.
 */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const k of spec.split(',')) {
    const m = /^ctrl-([a-z@[\\\]^_])$/i.exec(k);
    if (m) out.push(m[1]!.toUpperCase().charCodeAt(0) & 0x1f);
    else if (k.length === 1) out.push(k.charCodeAt(0));
    else throw new InputError(`--detach-keys ${JSON.stringify(spec)}: invalid key ${JSON.stringify(k)} (want a character or ctrl-<value>, e.g. ctrl-p,ctrl-q)`);
  }
  return Buffer.from(out);
}

/** Our terminal's size, for a container's terminal to start with (-t in the foreground). */
export function terminalSize(): { height: number; width: number } | undefined {
  return process.stdout.isTTY && process.stdout.rows > 0 ? { height: process.stdout.rows, width: process.stdout.columns } : undefined;
}

export interface Session {
  /** Called by startContainer once the monitor has created the container, before start. */
  beforeStart(monitor: Monitor): void;
  /** Attach to a container that runs already (`attach`): `exited` resolves when its exit is on disk. */
  attachRunning(exited: Promise<void>): void;
  /** Resolves when the output has ended and the monitor has recorded the exit — or when the user detached. */
  done(): Promise<'exited' | 'detached'>;
  /** Restore the terminal and stop forwarding (also on errors). */
  close(): void;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function foreground(engine: Engine, id: string, opts: ForegroundOptions): Session {
  let attached: Attached | undefined;
  let exited: Promise<void> | undefined;
  let detach!: () => void;
  const detached = new Promise<'detached'>((r) => (detach = () => r('detached')));
  const cleanups: (() => void)[] = [];
  const bundle = join(engine.containers.path(id), 'bundle');
  const session: Session = {
    beforeStart(m: Monitor) {
      session.attachRunning(m.exited);
    },
    attachRunning(done: Promise<void>) {
      exited = done;
      attached = attach(engine.paths.monitors, shortId(id), (stream, data) => {
        if (opts.streams && !opts.streams.has(stream)) return;
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
        // The detach sequence is watched for on a terminal only (as docker's escape proxy), so
        // that bytes piped into a container without one pass untouched.
        const keys = opts.tty ? (opts.detachKeys ?? DEFAULT_DETACH_KEYS) : Buffer.alloc(0);
        let matched = 0; // how many bytes of the sequence were typed last, held back until we know
        const onData = (d: Buffer) => {
          if (!keys.length) return a.write(d);
          const out: number[] = [];
          for (const byte of d) {
            if (byte === keys[matched]) {
              if (++matched < keys.length) continue;
              if (out.length) a.write(Buffer.from(out));
              detach();
              return;
            }
            // The held-back bytes were not the sequence after all: they go to the container.
            if (matched) out.push(...keys.subarray(0, matched));
            matched = byte === keys[0] ? 1 : 0;
            if (!matched) out.push(byte);
          }
          if (out.length) a.write(Buffer.from(out));
        };
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
      if (!opts.tty && opts.sigProxy !== false) {
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
      if (!attached || !exited) return 'exited';
      return Promise.race([Promise.all([attached.ended, exited]).then(() => 'exited' as const), detached]);
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
  return session;
}
