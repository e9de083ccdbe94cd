// The on-disk store: <root>/<id>/state.json (+ exec.fifo while created).
//
// - `create` makes the container directory with mkdir(2), which is atomic: of twenty
//   concurrent creates of one id exactly one gets the directory.
// - Mutating verbs hold an exclusive flock(2) on the container directory itself, so commands
//   on one id serialise and a runtime killed mid-operation releases its lock with its fds.
//   No lock files are left behind: the lock lives on the directory that delete removes.
// - state.json is written atomically (write a temp file, fsync, rename).
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { NotExistError, RuntimeError, UsageError, withContext } from '../errors.js';
import { flock, fsError, LOCK_EX, LOCK_NB, O_DIRECTORY, O_RDONLY, O_CLOEXEC, open } from '../kernel/files.js';
import { KernelError } from '../kernel/ffi.js';
import type { PersistedState } from './state.js';

export const DEFAULT_ROOT = '/run/mydocker-runc';
const STATE_FILE = 'state.json';
export const FIFO_NAME = 'exec.fifo';
/** The validated config as create saw it: exec's defaults and seccomp, even if the bundle changes or goes. */
const CONFIG_FILE = 'config.json';

/** Container ids as runc accepts them: ^[\w+-\.]+$, and never "." or "..". */
const ID_RE = /^[\w+\-.]+$/;

export function validateId(id: string | undefined): string {
  if (id === undefined || id === '') throw new UsageError('container id cannot be empty');
  if (!ID_RE.test(id) || id === '.' || id === '..') {
    throw new UsageError(`invalid container id ${JSON.stringify(id)}: use letters, digits, "_", "+", "-" and "."`);
  }
  if (id.length > 1024) throw new UsageError('invalid container id: longer than 1024 characters');
  return id;
}

export class Store {
  constructor(readonly root: string = DEFAULT_ROOT) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  fifoPath(id: string): string {
    return join(this.dir(id), FIFO_NAME);
  }

  /** Make the container directory, locked. Exactly one concurrent caller per id succeeds. */
  createDir(id: string): LockedDir {
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container ${id} already exists`);
      throw new RuntimeError(`create state directory ${this.dir(id)}: ${(e as Error).message}`);
    }
    const locked = this.lockPath(id, this.dir(id));
    if (!locked) throw new RuntimeError(`container ${id} was deleted while being created`);
    return locked;
  }

  /** Lock an existing container directory (waits for the current holder). */
  lock(id: string): LockedDir {
    const locked = this.lockPath(id, this.dir(id));
    if (!locked) throw new NotExistError(id);
    return locked;
  }

  /** Try to lock without waiting; null when someone holds it. */
  tryLock(id: string): LockedDir | null | 'gone' {
    let fd: number;
    try {
      fd = open(this.dir(id), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } catch {
      return 'gone';
    }
    try {
      flock(fd, LOCK_EX | LOCK_NB);
    } catch (e) {
      closeSync(fd);
      if (e instanceof KernelError && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK')) return null;
      throw e;
    }
    return new LockedDir(this, id, fd);
  }

  private lockPath(id: string, path: string): LockedDir | null {
    let fd: number;
    try {
      fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'ENOENT') return null;
      throw e;
    }
    try {
      flock(fd, LOCK_EX, path);
      // The directory may have been deleted (and even re-created) while we waited.
      const held = fstatSync(fd);
      let now;
      try {
        now = statSync(path);
      } catch {
        now = null;
      }
      if (!now || now.ino !== held.ino || now.dev !== held.dev) {
        closeSync(fd);
        return null;
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new LockedDir(this, id, fd);
  }

  /** The config create validated, or null for a container created before we kept a copy. */
  readConfig(id: string): unknown {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), CONFIG_FILE), 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new RuntimeError(`container ${id}: its copy of config.json is unreadable: ${(e as Error).message}`);
    }
  }

  /** Read state.json without locking (it is always replaced atomically). */
  read(id: string): PersistedState {
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotExistError(id);
      throw e;
    }
    return parseState(text, id, join(this.dir(id), STATE_FILE));
  }

  /** state.json as it is on disk, whatever it holds ('' when it cannot be read). */
  readRaw(id: string): string {
    try {
      return readFileSync(join(this.dir(id), STATE_FILE), 'utf8');
    } catch {
      return '';
    }
  }

  /** Ids of every container directory (including ones still being created). */
  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && ID_RE.test(d.name))
        .map((d) => d.name)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}

/** A state.json that is not one of ours, or no longer whole: every verb names the file. */
export class BrokenStateError extends RuntimeError {}

/**
 * Parse and check state.json: a truncated file (a full disk, a crash of something else) or
 * another runtime's file under our root must be reported by name, never reach the code below
 * as an object without the fields it reads.
 */
export function parseState(text: string, id: string, path: string): PersistedState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BrokenStateError(`container ${id}: state file ${path} is corrupt (${text.length ? 'truncated or not JSON' : 'empty'}); \`delete --force ${id}\` removes the container`);
  }
  const o = v as Record<string, unknown>;
  const bad = (field: string, want: string) =>
    new BrokenStateError(`container ${id}: state file ${path} is not a mydocker-runc state (${field}: ${want}); \`delete --force ${id}\` removes the container`);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('the document', 'not an object');
  if (o.version !== 1) throw bad('"version"', o.version === undefined ? 'missing' : `${JSON.stringify(o.version)}, not 1`);
  for (const f of ['id', 'bundle', 'rootfs', 'created', 'pidStartTime', 'ociVersion'] as const) {
    if (typeof o[f] !== 'string') throw bad(`"${f}"`, 'not a string');
  }
  if (!Number.isInteger(o.pid) || (o.pid as number) < 0) throw bad('"pid"', 'not a pid');
  if (o.phase !== 'creating' && o.phase !== 'created') throw bad('"phase"', 'neither "creating" nor "created"');
  const cg = o.cgroup as Record<string, unknown> | undefined;
  if (typeof cg !== 'object' || cg === null || typeof cg.id !== 'string') throw bad('"cgroup"', 'not a cgroup record');
  if (typeof o.namespaces !== 'object' || o.namespaces === null) throw bad('"namespaces"', 'not an object');
  if (o.owner !== undefined && typeof o.owner !== 'string') throw bad('"owner"', 'not a string');
  return o as unknown as PersistedState;
}

/** An exclusively locked container directory. Release by `unlock()` or by exiting. */
export class LockedDir {
  constructor(
    readonly store: Store,
    readonly id: string,
    private fd: number,
  ) {}

  get path(): string {
    return this.store.dir(this.id);
  }

  write(state: PersistedState): void {
    withContext(`container ${this.id}: save its state`, () => writeAtomic(join(this.path, STATE_FILE), JSON.stringify(state)));
  }

  writeConfig(config: unknown): void {
    withContext(`container ${this.id}: save its config`, () => writeAtomic(join(this.path, CONFIG_FILE), JSON.stringify(config)));
  }

  read(): PersistedState {
    return this.store.read(this.id);
  }

  /** Remove the whole container directory (state, fifo). The lock goes with it. */
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
    this.unlock();
  }

  unlock(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/**
 * Write a file so that readers see either the old or the new content, never a mix. No
 * fsync: the store lives on tmpfs (/run) and is meaningless after a reboot anyway; what we
 * guard against is a runtime killed mid-write, which rename(2) covers.
 */
export function writeAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w', mode);
  } catch (e) {
    throw fsError(e, tmp);
  }
  try {
    const buf = Buffer.from(data);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw fsError(e, tmp);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsError(e, path);
  }
}
