// The local driver's options, as docker's `volume create -o type=… -o device=… -o o=…`: such a
// volume is a mount — a tmpfs, a bind of a host directory (type=none, o=bind), any filesystem
// mount(8) takes — made on its _data directory when a container that uses it starts, and taken
// down when the last container using it has stopped. There is no daemon to count the users:
// each starting container leaves a marker (users/<container id>) under the volume's lock, its
// cleanup takes it away, and whoever takes the last one unmounts. A marker whose container no
// longer exists does not count.
//
// The data of a bind volume is the host directory's: the volume's removal unmounts it first and
// then removes only its own files (removeTree refuses to cross a mount point anyway).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError, MydockerError } from '../errors.js';
import { lockSync } from '../fs/locks.js';
import { isMountpoint, unmountUnder } from '../fs/mounts.js';
import type { Volume } from './store.js';

/** `-o KEY=VALUE` of `volume create`: type, device, o — checked as far as can be without mounting. */
export function parseVolumeOptions(opts: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    if (eq <= 0) throw new InputError(`-o ${opt}: want KEY=VALUE (type, device, o)`);
    const k = opt.slice(0, eq);
    if (!['type', 'device', 'o'].includes(k)) throw new InputError(`-o ${opt}: invalid option key ${JSON.stringify(k)} (the local driver takes type, device and o)`);
    out[k] = opt.slice(eq + 1);
  }
  if (!Object.keys(out).length) return out;
  if (!out.type) throw new InputError('-o: the local driver needs type= (e.g. tmpfs, or none with o=bind)');
  if (!out.device) throw new InputError(`-o type=${out.type}: needs device= (tmpfs for a tmpfs, the host directory for a bind)`);
  const bind = (out.o ?? '').split(',').some((x) => x === 'bind' || x === 'rbind');
  if (bind) {
    if (!isAbsolute(out.device)) throw new InputError(`-o device=${out.device}: a bind device must be an absolute host path`);
    let dir = false;
    try {
      dir = statSync(out.device).isDirectory();
    } catch {
      /* reported below */
    }
    if (!dir) throw new InputError(`-o device=${out.device}: no such directory on the host`);
  } else if (out.type === 'none') throw new InputError('-o type=none: needs o=bind (a bind of a host directory)');
  return out;
}

const hasOptions = (v: Volume) => !!v.Options && Object.keys(v.Options).length > 0;
const volumeDir = (v: Volume) => join(v.Mountpoint, '..');

function withLock<T>(v: Volume, fn: () => T): T {
  const unlock = lockSync(join(volumeDir(v), 'mount.lock'), 'exclusive');
  try {
    return fn();
  } finally {
    unlock();
  }
}

/** Before a container that uses `v` starts: its marker, and the mount if it is the first. */
export function acquireVolume(v: Volume, containerId: string): void {
  if (!hasOptions(v)) return;
  withLock(v, () => {
    const users = join(volumeDir(v), 'users');
    mkdirSync(users, { recursive: true, mode: 0o700 });
    writeFileSync(join(users, containerId), '');
    if (isMountpoint(v.Mountpoint)) return;
    const o = v.Options!;
    const r = spawnSync('mount', ['-t', o.type!, ...(o.o ? ['-o', o.o] : []), '--', o.device!, v.Mountpoint], { encoding: 'utf8' });
    if (r.status !== 0) {
      rmSync(join(users, containerId), { force: true });
      throw new MydockerError(`volume ${v.Name}: mount ${o.type} ${o.device} (${o.o ?? 'no options'}): ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
    }
  });
}

/**
 * After a container that used `v` stopped or went: its marker goes, and the mount with the last
 * one (`exists` says which containers still exist: stale markers do not count).
 */
export function releaseVolume(v: Volume, containerId: string, exists: (id: string) => boolean): void {
  if (!hasOptions(v) || !existsSync(volumeDir(v))) return;
  withLock(v, () => {
    const users = join(volumeDir(v), 'users');
    rmSync(join(users, containerId), { force: true });
    let left: string[] = [];
    try {
      left = readdirSync(users);
    } catch {
      /* none */
    }
    for (const id of left) if (!exists(id)) rmSync(join(users, id), { force: true });
    if (left.some((id) => exists(id))) return;
    unmountUnder(v.Mountpoint);
  });
}

/** Before the volume is removed: nothing of it stays mounted (its users are gone by then). */
export function unmountVolume(v: Volume): void {
  if (!existsSync(volumeDir(v))) return;
  withLock(v, () => {
    unmountUnder(v.Mountpoint);
    rmSync(join(volumeDir(v), 'users'), { recursive: true, force: true });
  });
}
