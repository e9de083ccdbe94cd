// OOM notifications for the `events` verb.
//
//   oomKillCount(m)          how many processes the OOM killer has killed in the container's
//                            memory cgroup so far (v1: memory.oom_control "oom_kill"; v2:
//                            memory.events "oom_kill"). Synchronous; -1 without a memory cgroup.
//   watchOom(m, onOom, opts) calls onOom() once per OOM event, from the event loop, until
//                            stop(); calls opts.onGone() (and stops) when the cgroup is removed.
//     v1: an eventfd registered through cgroup.event_control for memory.oom_control; the
//         kernel signals it each time the cgroup hits its limit and the OOM path runs (the
//         kill itself may follow, or not when the OOM killer is disabled). The eventfd also
//         fires when the cgroup is removed; we tell the two apart by cgroup.event_control
//         still existing.
//     v2: memory.events is watched with inotify (fs.watch; the kernel sends a modify event
//         when a counter changes) plus a periodic re-read as a safety net; each increase of
//         "oom_kill" calls onOom (once per kill). The cgroup going away ends the watch.
//
// Typical `events` loop:  const w = watchOom(m, () => print({type:'oom'}), { onGone: exit });
import { closeSync, existsSync, openSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError } from '../errors.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, eventfd, eventfdRead, watchReadable } from '../kernel/eventfd.js';
import type { CgroupManager } from './manager.js';
import { parseKeyValues } from './dir.js';

export interface OomWatch {
  stop(): void;
}

export interface OomWatchOptions {
  /** The cgroup was removed (the container is gone); the watch has stopped. */
  onGone?: () => void;
  /** v2: how often to re-read memory.events besides inotify (default 1000 ms). */
  intervalMs?: number;
}

function memoryDir(m: CgroupManager): { dir: string; version: 1 | 2 } {
  if (m.layout === 'v2') {
    const dir = m.paths.unified;
    if (dir) return { dir, version: 2 };
  } else {
    const dir = m.paths.memory;
    if (dir) return { dir, version: 1 };
  }
  throw new UnsupportedError('events: the container has no memory cgroup to watch for OOM');
}

function countIn(text: string): number {
  const v = parseKeyValues(text).oom_kill;
  return v === undefined ? 0 : Number(v);
}

/** Processes killed by the OOM killer in the container's cgroup; -1 if it has none. */
export function oomKillCount(m: CgroupManager): number {
  let where;
  try {
    where = memoryDir(m);
  } catch {
    return -1;
  }
  const file = join(where.dir, where.version === 1 ? 'memory.oom_control' : 'memory.events');
  try {
    return countIn(readFileSync(file, 'utf8'));
  } catch {
    return -1;
  }
}

export function watchOom(m: CgroupManager, onOom: () => void, opts: OomWatchOptions = {}): OomWatch {
  const where = memoryDir(m);
  return where.version === 1 ? watchV1(where.dir, onOom, opts) : watchV2(where.dir, onOom, opts);
}

function watchV1(dir: string, onOom: () => void, opts: OomWatchOptions): OomWatch {
  const efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  let ocfd: number | undefined;
  try {
    ocfd = openSync(join(dir, 'memory.oom_control'), 'r');
    writeFileSync(join(dir, 'cgroup.event_control'), `${efd} ${ocfd}`);
  } catch (e) {
    closeSync(efd);
    if (ocfd !== undefined) closeSync(ocfd);
    throw e;
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    w.close();
    closeSync(efd);
    closeSync(ocfd!);
  };
  const w = watchReadable(efd, () => {
    if (stopped) return;
    const n = Number(eventfdRead(efd));
    if (!existsSync(join(dir, 'cgroup.event_control'))) {
      stop();
      opts.onGone?.();
      return;
    }
    for (let i = 0; i < n; i++) onOom();
  });
  return { stop };
}

function watchV2(dir: string, onOom: () => void, opts: OomWatchOptions): OomWatch {
  const file = join(dir, 'memory.events');
  let last = countIn(readFileSync(file, 'utf8'));
  let stopped = false;
  let watcher: FSWatcher | undefined;
  const check = () => {
    if (stopped) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      stop();
      opts.onGone?.();
      return;
    }
    const now = countIn(text);
    for (; last < now; last++) onOom();
  };
  const timer = setInterval(check, opts.intervalMs ?? 1000);
  try {
    watcher = watch(file, check);
    watcher.on('error', () => {
      /* the interval keeps going */
    });
  } catch {
    /* no inotify on this file: the interval alone */
  }
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    watcher?.close();
  };
  return { stop };
}
