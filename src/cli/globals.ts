// Global flags, logging, and the one place errors are printed.
//
// With --log, errors go there as runc (logrus) writes them — `--log-format json` gives one
// object per line, {"level":"error","msg":"…","time":"<RFC 3339>"}, which containerd's shim
// reads back for "OCI runtime create failed: <msg>" — and always to stderr too (podman reads
// stderr). Nothing is ever written to stdout except a verb's own output.
import { appendFileSync, writeSync } from 'node:fs';
import { errorLine, RuntimeError, UsageError } from '../errors.js';
import { DEFAULT_ROOT, Store } from '../container/store.js';

export interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
  systemdCgroup?: boolean;
  criu?: string;
  rootless?: string;
}

export function store(g: Globals): Store {
  if (!g.root.startsWith('/')) throw new UsageError(`--root ${g.root}: must be an absolute path`);
  rootless(g);
  return new Store(g.root);
}

/**
 * `--rootless true|false|auto` (runc's): whether the container is made without cgroups and
 * with id maps an unprivileged user may write. auto (the default): when we are not root.
 */
export function rootless(g: Globals): boolean {
  const v = g.rootless ?? 'auto';
  if (v !== 'true' && v !== 'false' && v !== 'auto') throw new UsageError(`--rootless ${v}: must be true, false or auto`);
  return v === 'true' || (v === 'auto' && (process.geteuid?.() ?? 0) !== 0);
}

/**
 * The state root when --root is not given: /run/mydocker-runc for root; for anyone else, as
 * runc's, $XDG_RUNTIME_DIR/mydocker-runc (or one of their own under /tmp).
 */
export function defaultRoot(): string {
  if ((process.geteuid?.() ?? 0) === 0) return DEFAULT_ROOT;
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg && xdg.startsWith('/') ? `${xdg}/mydocker-runc` : `/tmp/mydocker-runc-${process.geteuid?.()}`;
}

export function log(g: Globals, level: 'error' | 'warning' | 'info' | 'debug', msg: string): void {
  if (level === 'debug' && !g.debug) return;
  if (g.log) {
    const time = new Date().toISOString();
    const line =
      g.logFormat === 'json'
        ? JSON.stringify({ level, msg, time })
        : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
    try {
      appendFileSync(g.log, `${line}\n`);
    } catch {
      /* an unwritable log must not hide the error itself */
    }
  }
  if (level === 'error' || level === 'warning') {
    try {
      writeSync(2, `mydocker-runc: ${level === 'warning' ? 'warning: ' : ''}${msg}\n`);
    } catch {
      /* stderr closed */
    }
  }
}

export function warn(g: Globals, warnings: string[]): void {
  for (const w of warnings) log(g, 'warning', w);
}

/** Print an error once, as one line, and set the exit code. */
export function fail(g: Globals, e: unknown): void {
  const msg = errorLine(e);
  // Cleanup that could not be done on the way out (a failed create's poststop hooks).
  const warnings = (e as { warnings?: unknown } | null)?.warnings;
  if (Array.isArray(warnings)) warn(g, warnings.map(String));
  if (g.debug && e instanceof Error && e.stack) log(g, 'debug', e.stack);
  log(g, 'error', msg);
  process.exitCode = e instanceof RuntimeError ? e.exitCode : 1;
}

/** Parse a non-negative integer flag. */
export function intFlag(name: string, value: string | undefined, dflt = 0): number {
  if (value === undefined) return dflt;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} ${JSON.stringify(value)}: must be a non-negative integer`);
  return Number(value);
}
