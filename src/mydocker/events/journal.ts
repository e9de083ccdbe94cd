// The events journal: docker's `events` without a daemon. Every mydocker process that does
// something (a verb, conmon's cleanup command, a health probe) appends one JSON line per event
// to <run>/events.log, in docker's shape (`status`, `id`, `from`, `Type`, `Action`, `Actor`,
// `scope`, `time`, `timeNano`). Each line is one write(2) on an O_APPEND fd: the kernel appends
// it whole under the inode's lock, so lines of concurrent processes never interleave.
//
// Bounded: past MAX_BYTES the file is renamed to events.log.1 (the previous .1 is dropped) by
// whichever writer sees it first, under a lock; a reader holding the old fd reads it to its end
// and moves to the new file. Writing an event never fails the operation it records: a full
// disk or a missing run tree loses the event, not the command.
//
// Cheap on purpose: this module is on `run`'s path and loads nothing but node:fs (the lock,
// only taken at a rotation, is an flock through ../fs/locks.js, which lifecycle loads anyway).
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { lockSync } from '../fs/locks.js';

export type EventType = 'container' | 'image' | 'volume' | 'network';

/** The journal's size bound (MYDOCKER_EVENTS_MAX_SIZE overrides it, in bytes: the tests). */
export const MAX_BYTES = 4 * 1024 * 1024;

export const journalPath = (run: string) => join(run, 'events.log');

/** What the journal needs of an engine (so a caller can pass any object with the run dir). */
export interface HasRun {
  paths: { run: string };
}

/** The fields of a container record an event names (image, name, labels). */
export interface ContainerLike {
  Id: string;
  Name: string;
  Image: string;
  Config?: { Labels?: Record<string, string> | null };
}

// A nanosecond clock: the wall clock's milliseconds, the monotonic clock's sub-millisecond part
// (so events of one process within one millisecond still sort in their order).
let lastNs = 0n;
function nowNs(): bigint {
  let ns = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

/** Append one event. Never throws. */
export function emit(engine: HasRun, type: EventType, action: string, id: string, attributes: Record<string, string> = {}, from?: string): void {
  try {
    const ns = nowNs();
    // docker's legacy fields (status, id, from) are set for containers and images only.
    const legacy = type === 'container' || type === 'image' ? { status: action, id, ...(from !== undefined ? { from } : {}) } : {};
    const body = JSON.stringify({ ...legacy, Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Number(ns / 1_000_000_000n) });
    // timeNano is an int64: written as digits, not through a double.
    append(engine.paths.run, `${body.slice(0, -1)},"timeNano":${ns}}\n`);
  } catch {
    /* an event is never worth failing the operation */
  }
}

/** A container's event: name, image and its labels as attributes (docker's), plus `extra`. */
export function emitContainer(engine: HasRun, action: string, rec: ContainerLike, extra: Record<string, string> = {}): void {
  const all: Record<string, string> = { ...(rec.Config?.Labels ?? {}), image: rec.Image, name: rec.Name, ...extra };
  // Sorted, as Go's JSON encodes a map.
  const attrs: Record<string, string> = {};
  for (const k of Object.keys(all).sort()) attrs[k] = all[k]!;
  emit(engine, 'container', action, rec.Id, attrs, rec.Image);
}

function append(run: string, line: string): void {
  const path = journalPath(run);
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(run, { recursive: true, mode: 0o711 });
    fd = openSync(path, 'a', 0o600);
  }
  try {
    writeSync(fd, line);
    const st = fstatSync(fd);
    if (st.size > maxBytes()) rotate(run, path, st.ino);
  } finally {
    closeSync(fd);
  }
}

function maxBytes(): number {
  const v = Number(process.env.MYDOCKER_EVENTS_MAX_SIZE);
  return Number.isSafeInteger(v) && v > 0 ? v : MAX_BYTES;
}

/** events.log → events.log.1, once: only if the file is still the one we saw grow past the bound. */
function rotate(run: string, path: string, ino: number): void {
  const release = lockSync(join(run, 'events.lock'), 'exclusive');
  try {
    if (statSync(path).ino !== ino) return; // another writer rotated it already
    renameSync(path, `${path}.1`);
  } finally {
    release();
  }
}

/** An image's event: docker's Actor.ID (the image id, or the reference for pull/push) and its name. */
export function emitImage(engine: HasRun, action: string, id: string, name: string): void {
  emit(engine, 'image', action, id, { name });
}

/** A volume's event (ID: its name; docker's driver attribute). */
export function emitVolume(engine: HasRun, action: string, name: string): void {
  emit(engine, 'volume', action, name, { driver: 'local' });
}

/** A network's event: create/destroy, or connect/disconnect of `container`. */
export function emitNetwork(engine: HasRun, action: string, id: string, name: string, container?: string): void {
  emit(engine, 'network', action, id, { ...(container ? { container } : {}), name, type: 'bridge' });
}
