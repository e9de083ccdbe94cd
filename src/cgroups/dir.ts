// One cgroup directory and the file operations every controller needs, with errors that name
// the spec field, the value, the file and errno:
//   linux.resources.memory.limit: write "524288" to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: Device or resource busy (EBUSY)
//
// Controllers take a CgroupDir, never a hard-coded path, so the same code serves v1, v2, the
// cgroup2 VM and a temp-dir unit test. `log` (optional) records every write in order: the
// unit tests use it to check sequences (devices.allow, io.max) that a plain file cannot keep.
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '../errors.js';
import { KernelError } from '../kernel/ffi.js';

export type WriteLog = (file: string, value: string) => void;

/** A value to write: strings as they are, numbers in decimal. */
export type CgroupValue = string | number | bigint;

export class CgroupDir {
  constructor(
    readonly path: string,
    readonly log?: WriteLog,
  ) {}

  file(name: string): string {
    return join(this.path, name);
  }

  has(name: string): boolean {
    return existsSync(this.file(name));
  }

  /** The file's content, trimmed. Throws a RuntimeError naming `field` (or the file). */
  read(name: string, field?: string): string {
    try {
      return readFileSync(this.file(name), 'utf8').trim();
    } catch (e) {
      throw fileError(field, `read ${this.file(name)}`, e);
    }
  }

  /** read() that returns undefined when the file does not exist. */
  readIf(name: string): string | undefined {
    try {
      return readFileSync(this.file(name), 'utf8').trim();
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw fileError(undefined, `read ${this.file(name)}`, e);
    }
  }

  /** Write `value` with a single write(2) (cgroup files take one value per write). */
  write(field: string, name: string, value: CgroupValue): void {
    const path = this.file(name);
    const text = String(value);
    this.log?.(path, text);
    let fd: number | undefined;
    try {
      // (libuv adds O_CLOEXEC.) O_TRUNC is a no-op on cgroupfs and keeps a temp-dir test file clean; never O_CREAT:
      // a missing file means a missing controller or feature, which must be an error.
      fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
      writeSync(fd, text);
    } catch (e) {
      throw fileError(field, `write ${JSON.stringify(text)} to ${path}`, e);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/** errno name of a Node or Kernel error ('' if none). */
export function errnoCode(e: unknown): string {
  if (e instanceof KernelError) return e.code;
  if (e instanceof CgroupFileError) return e.code;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * The cgroup was removed under us: ENOENT when its directory is gone before we open a file,
 * ENODEV when kernfs deactivated the file between our open and our read or write (another
 * container sharing a parent removed it).
 */
export function isVanished(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'ENOENT' || code === 'ENODEV';
}

/** A failed cgroup file operation; `code` is errno's name (EBUSY, ENOENT, ...). */
export class CgroupFileError extends RuntimeError {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function fileError(field: string | undefined, what: string, e: unknown): RuntimeError {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : '';
  const errno = typeof err?.errno === 'number' ? Math.abs(err.errno) : 0;
  const text = errno ? new KernelError('x', errno).message.replace(/^x: /, '') : String(err?.message ?? e);
  return new CgroupFileError(`${field ? `${field}: ` : ''}${what}: ${text}`, code, { cause: e });
}

/** Parse an unsigned cgroup number; "max" → Infinity-like MAX. Big values stay exact as bigint. */
export function parseUint(text: string): number | bigint {
  const t = text.trim();
  if (t === 'max') return MAX_UINT64;
  if (!/^\d+$/.test(t)) throw new Error(`not an unsigned integer: ${JSON.stringify(t)}`);
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

export const MAX_UINT64 = 18446744073709551615n;

/** "key value" lines (memory.stat, cpu.stat, memory.events, ...) → map. */
export function parseKeyValues(text: string): Record<string, number | bigint> {
  const out: Record<string, number | bigint> = {};
  for (const line of text.split('\n')) {
    const [k, v, ...rest] = line.trim().split(/\s+/);
    if (!k || v === undefined || rest.length) continue;
    try {
      out[k] = parseUint(v);
    } catch {
      /* not a counter (e.g. a negative or text value): skip */
    }
  }
  return out;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Block the thread for `ms` milliseconds (the manager is synchronous: CLI verbs and the init). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Integer check for a spec field, with the field's name in the error. */
export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
