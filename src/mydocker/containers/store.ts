// Containers on disk: one directory per container under <lib>/containers/<64-hex id>/, and
// names as symlinks <lib>/containers/names/<name> -> <id>.
//
// - A name is reserved by symlink(2), which is atomic: of two `run --name x` exactly one gets
//   it. A name whose container directory is gone (a crash between reserving and creating)
//   is stale and is reclaimed under the names lock.
// - A container's mutations hold an exclusive flock on its directory (runtime/store.ts does the
//   same for the runtime's state): two `rm -f`, a `stop` and conmon's cleanup serialise.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../../container/store.js';
import { ConflictError, InputError, MydockerError, NotFoundError } from '../errors.js';
import { lockSync, tryLock, type Release } from '../fs/locks.js';
import type { DataRoot } from '../paths.js';
import type { ContainerRecord } from './record.js';

const RECORD = 'container.json';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ID_RE = /^[0-9a-f]{64}$/;

export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading "/" is accepted and dropped). */
export function validateName(name: string, flag = '--name'): string {
  const n = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME_RE.test(n)) {
    throw new InputError(`${flag} ${JSON.stringify(name)}: invalid container name, only [a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed`);
  }
  if (ID_RE.test(n)) throw new InputError(`${flag} ${JSON.stringify(name)}: a name cannot look like a container id`);
  return n;
}

/** docker's generated names: adjective_scientist. A short list is enough to be friendly. */
const ADJ = ['admiring', 'brave', 'clever', 'dazzling', 'eager', 'focused', 'gallant', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'optimistic', 'pensive', 'quirky', 'relaxed', 'serene', 'tender', 'upbeat', 'vibrant', 'wizardly', 'youthful', 'zealous'];
const NOUN = ['archimedes', 'babbage', 'curie', 'darwin', 'euler', 'fermi', 'gauss', 'hopper', 'kepler', 'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'tesla', 'turing', 'wozniak', 'yalow'];

export function generatedName(): string {
  const r = randomBytes(3);
  return `${ADJ[r[0]! % ADJ.length]}_${NOUN[r[1]! % NOUN.length]}${r[2]! % 4 === 0 ? '' : String(r[2]! % 10)}`;
}

export class ContainerStore {
  readonly dir: string;
  readonly namesDir: string;

  constructor(readonly root: DataRoot) {
    this.dir = root.containers;
    this.namesDir = join(this.dir, 'names');
  }

  path(id: string, ...rest: string[]): string {
    return join(this.dir, id, ...rest);
  }

  /** Reserve `name` for `id`; a ConflictError names the container that has it. */
  reserveName(name: string, id: string): void {
    mkdirSync(this.namesDir, { recursive: true, mode: 0o700 });
    const link = join(this.namesDir, name);
    try {
      symlinkSync(id, link);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const unlock = this.lockNames();
    try {
      const owner = this.nameOwner(name);
      // Taken: by a container, or by one being created (its creator holds its lock until the
      // record exists).
      let busy = false;
      if (owner && !this.exists(owner)) {
        const held = this.tryLock(owner);
        busy = held === null;
        if (typeof held === 'function') held();
      }
      if (owner && (busy || this.exists(owner))) {
        throw new ConflictError(
          `Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      // Stale: the container it named never got a record (its create died), or lost it.
      rmSync(link, { force: true });
      symlinkSync(id, link);
    } finally {
      unlock();
    }
  }

  releaseName(name: string, id: string): void {
    if (this.nameOwner(name) === id) rmSync(join(this.namesDir, name), { force: true });
  }

  nameOwner(name: string): string | null {
    try {
      return readlinkSync(join(this.namesDir, name));
    } catch {
      return null;
    }
  }

  /** Rename under the names lock: the new name is taken atomically, then the old released. */
  rename(id: string, from: string, to: string): void {
    this.reserveName(to, id);
    this.releaseName(from, id);
  }

  private lockNames(): Release {
    return lockSync(this.namesDir, 'exclusive', { dir: true });
  }

  exists(id: string): boolean {
    try {
      readFileSync(this.path(id, RECORD));
      return true;
    } catch {
      return false;
    }
  }

  /** Make the container's directory (fails if the id exists). */
  createDir(id: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    mkdirSync(this.path(id), { mode: 0o711 });
  }

  read(id: string): ContainerRecord {
    let text: string;
    try {
      text = readFileSync(this.path(id, RECORD), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('container', id);
      throw e;
    }
    try {
      const rec = JSON.parse(text) as ContainerRecord;
      if (rec.version !== 1 || rec.Id !== id) throw new Error('not a mydocker container record');
      return rec;
    } catch (e) {
      throw new MydockerError(`container ${id}: ${this.path(id, RECORD)} is corrupt (${(e as Error).message}); remove it with rm -f`);
    }
  }

  write(rec: ContainerRecord): void {
    writeAtomic(this.path(rec.Id, RECORD), `${JSON.stringify(rec, null, 1)}\n`, 0o600);
  }

  /** Every container directory (ids), including ones whose record is missing or corrupt. */
  ids(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => ID_RE.test(n));
  }

  /** Records that can be read, newest first (docker's ps order). */
  list(): ContainerRecord[] {
    const out: ContainerRecord[] = [];
    for (const id of this.ids()) {
      try {
        out.push(this.read(id));
      } catch {
        /* being created, or corrupt: `rm -f <id>` handles it */
      }
    }
    return out.sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
  }

  /**
   * A user's reference → id: full id, a name (with or without "/"), or a unique id prefix
   * (docker's order: exact id, exact name, prefix).
   */
  resolve(ref: string): string {
    const r = ref.startsWith('/') ? ref.slice(1) : ref;
    if (ID_RE.test(r) && this.dirExists(r)) return r;
    const owner = this.nameOwner(r);
    if (owner && this.dirExists(owner)) return owner;
    if (/^[0-9a-f]+$/.test(r)) {
      const matches = this.ids().filter((id) => id.startsWith(r));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) throw new InputError(`multiple containers match the prefix ${r}: use more characters`);
    }
    throw new NotFoundError('container', ref);
  }

  private dirExists(id: string): boolean {
    try {
      readdirSync(this.path(id));
      return true;
    } catch {
      return false;
    }
  }

  /** Lock a container (waits). Null when its directory is gone. */
  lock(id: string): Release | null {
    try {
      return lockSync(this.path(id), 'exclusive', { dir: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Try to lock without waiting: null when someone holds it, 'gone' when the directory is. */
  tryLock(id: string): Release | null | 'gone' {
    try {
      return tryLock(this.path(id), 'exclusive', { dir: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw e;
    }
  }

  /**
   * Take a container's directory out of the tree in one step (rename to a trash name), so a
   * half-finished removal never leaves a half container visible; the caller then deletes it.
   */
  detach(id: string): string {
    const trash = join(this.root.tmp, `removing-${id}-${process.pid}`);
    mkdirSync(this.root.tmp, { recursive: true, mode: 0o700 });
    renameSync(this.path(id), trash);
    return trash;
  }

  unlinkName(name: string): void {
    try {
      unlinkSync(join(this.namesDir, name));
    } catch {
      /* gone */
    }
  }
}
