// Volumes: directories under <lib>/volumes/<name>/_data that outlive containers. Named volumes
// are made on first use (or by `volume create`); anonymous ones get a random 64-hex name and are
// removed with their container by `rm -v` (and by --rm). A volume in use by a container (of any
// state) is never removed: its data is the user's.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../../container/store.js';
import { ConflictError, InputError, NotFoundError } from '../errors.js';
import { emitVolume } from '../events/journal.js';
import { removeTree } from '../fs/remove.js';
import type { DataRoot } from '../paths.js';
import { unmountVolume } from './driver.js';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export interface Volume {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Anonymous: boolean;
  /** The local driver's options (type, device, o): a volume mounted while containers use it (driver.ts). */
  Options?: Record<string, string>;
}

export class VolumeStore {
  readonly dir: string;

  constructor(private readonly root: DataRoot) {
    this.dir = root.volumes;
  }

  private meta(name: string): string {
    return join(this.dir, name, 'volume.json');
  }

  get(name: string): Volume {
    try {
      return JSON.parse(readFileSync(this.meta(name), 'utf8')) as Volume;
    } catch {
      throw new NotFoundError('volume', name);
    }
  }

  exists(name: string): boolean {
    try {
      readFileSync(this.meta(name));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Create a volume, or return the existing one (`created` false). Made in a temp dir and
   * renamed into place: a crash never leaves a half volume, two creators get one volume.
   */
  ensure(name: string | '', labels: Record<string, string> = {}, options: Record<string, string> = {}): { volume: Volume; created: boolean } {
    const anonymous = name === '';
    const n = anonymous ? randomBytes(32).toString('hex') : name;
    if (!NAME_RE.test(n)) throw new InputError(`volume name ${JSON.stringify(n)}: only [a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed`);
    if (this.exists(n)) return { volume: this.get(n), created: false };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    mkdirSync(this.root.tmp, { recursive: true, mode: 0o700 });
    const tmp = join(this.root.tmp, `volume-${n}-${process.pid}-${randomBytes(4).toString('hex')}`);
    const volume: Volume = {
      Name: n,
      Driver: 'local',
      Mountpoint: join(this.dir, n, '_data'),
      CreatedAt: new Date().toISOString(),
      Labels: labels,
      Scope: 'local',
      Anonymous: anonymous,
      ...(Object.keys(options).length ? { Options: options } : {}),
    };
    mkdirSync(join(tmp, '_data'), { recursive: true, mode: 0o755 });
    writeAtomic(join(tmp, 'volume.json'), JSON.stringify(volume), 0o600);
    try {
      renameSync(tmp, join(this.dir, n));
    } catch (e) {
      removeTree(tmp);
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'EEXIST' || code === 'ENOTEMPTY') && this.exists(n)) return { volume: this.get(n), created: false };
      throw e;
    }
    emitVolume({ paths: this.root }, 'create', n);
    return { volume, created: true };
  }

  list(): Volume[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: Volume[] = [];
    for (const n of names) {
      try {
        out.push(this.get(n));
      } catch {
        /* not a volume */
      }
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** Remove a volume unless a container uses it (`users` gives their ids). */
  remove(name: string, users: string[], force = false): void {
    if (!this.exists(name)) {
      if (force) return;
      throw new NotFoundError('volume', name);
    }
    if (users.length) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    unmountVolume(this.get(name)); // a bind volume's data is the host directory's: never removed
    const trash = join(this.root.tmp, `removing-volume-${name}-${process.pid}`);
    mkdirSync(this.root.tmp, { recursive: true, mode: 0o700 });
    renameSync(join(this.dir, name), trash);
    removeTree(trash);
    emitVolume({ paths: this.root }, 'destroy', name);
  }
}
