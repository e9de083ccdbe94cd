// Reading the events journal (journal.ts): past events from events.log.1 and events.log, then
// new ones as they are appended (the file watched, with a poll as the fallback), across a
// rotation. Filters and the default line are docker's (daemon/events/filter.go, the CLI's
// prettyPrintEvent).
import { closeSync, fstatSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { InputError } from '../errors.js';

export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  /** As written (an int64 does not fit a double). */
  timeNano: bigint;
  /** The journal's line, as it was written. */
  raw: string;
}

export function parseLine(line: string): EventMessage | null {
  if (!line.trim()) return null;
  const m = parseWhole(line);
  if (m) return m;
  // A write cut short by a full disk leaves a piece without its newline, and the next event is
  // glued to it: that one is still whole at the end of the line.
  const at = Math.max(line.lastIndexOf('{"status":'), line.lastIndexOf('{"Type":'));
  return at > 0 ? parseWhole(line.slice(at)) : null;
}

function parseWhole(line: string): EventMessage | null {
  try {
    const m = JSON.parse(line) as EventMessage;
    if (typeof m.Type !== 'string' || typeof m.Action !== 'string' || !m.Actor) return null;
    const ns = /"timeNano":(\d+)/.exec(line);
    m.timeNano = ns ? BigInt(ns[1]!) : BigInt(m.time ?? 0) * 1_000_000_000n;
    m.Actor.Attributes ??= {};
    m.raw = line;
    return m;
  } catch {
    return null; // a line torn by a crash mid-write (or a full disk): skipped
  }
}

// ---------------------------------------------------------------------------------------------
// Filters: docker's keys. Values of one key are OR'ed, different keys AND'ed (labels: all of them).

const KEYS = ['container', 'image', 'event', 'type', 'volume', 'network', 'label', 'scope'];
const TYPES = ['container', 'image', 'volume', 'network', 'daemon', 'plugin', 'service', 'node', 'secret', 'config'];

export type Filters = Map<string, string[]>;

export function parseFilters(values: string[]): Filters {
  const f: Filters = new Map();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new InputError(`--filter ${v}: bad format of filter (expected name=value)`);
    const key = v.slice(0, eq).toLowerCase();
    const val = v.slice(eq + 1);
    if (!KEYS.includes(key)) throw new InputError(`--filter ${v}: invalid filter '${key}' (use ${KEYS.join(', ')})`);
    if (key === 'type' && !TYPES.includes(val)) throw new InputError(`--filter ${v}: unknown event type '${val}'`);
    f.set(key, [...(f.get(key) ?? []), val]);
  }
  return f;
}

const stripTag = (ref: string) => (/^sha256:/.test(ref) ? ref : ref.replace(/:[^:/@]+$/, '').replace(/@.*$/, ''));

export function matches(f: Filters, e: EventMessage): boolean {
  const exact = (key: string, ...sources: (string | undefined)[]) => {
    const vals = f.get(key);
    return !vals || sources.some((s) => s !== undefined && vals.includes(s));
  };
  const fuzzy = (key: string, ...sources: (string | undefined)[]) => {
    const vals = f.get(key);
    return !vals || sources.some((s) => s !== undefined && s !== '' && vals.some((v) => s === v || s.startsWith(v)));
  };
  const attrs = e.Actor.Attributes;
  // Typed filters apply to their own type's actors: container=x keeps x's events only.
  const byName = (type: string) => !f.has(type) || (e.Type === type && fuzzy(type, e.Actor.ID, attrs.name));
  const imageName = e.Type === 'image' ? attrs.name : attrs.image;
  return (
    exact('event', e.Action, e.Action.split(':')[0]) &&
    exact('type', e.Type) &&
    exact('scope', e.scope) &&
    byName('container') &&
    byName('volume') &&
    byName('network') &&
    exact('image', e.Actor.ID, imageName, stripTag(e.Actor.ID), imageName === undefined ? undefined : stripTag(imageName)) &&
    (f.get('label') ?? []).every((l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? Object.hasOwn(attrs, l) : attrs[l.slice(0, eq)] === l.slice(eq + 1);
    })
  );
}

// ---------------------------------------------------------------------------------------------
// Output.

/** Go's RFC3339NanoFixed in local time ("Z" when the offset is 0), from nanoseconds. */
export function formatTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())}T${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}`;
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${base}.${frac}${zone}`;
}

/** docker's default line: `TIME TYPE ACTION ID (k=v, …)`, attributes sorted by key. */
export function prettyLine(e: EventMessage): string {
  const keys = Object.keys(e.Actor.Attributes).sort();
  const attrs = keys.length ? ` (${keys.map((k) => `${k}=${e.Actor.Attributes[k]}`).join(', ')})` : '';
  return `${formatTime(e.timeNano)} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs}`;
}

/** The template's dot: docker's events.Message fields by their Go names; `json .` is the journal's JSON. */
export function templateValue(e: EventMessage): Record<string, unknown> {
  const v: Record<string, unknown> = {
    Status: e.status ?? '',
    ID: e.id ?? '',
    From: e.from ?? '',
    Type: e.Type,
    Action: e.Action,
    // A map[string]string in Go: a missing key is "" (not an error, as a struct's field would be).
    Actor: { ID: e.Actor.ID, Attributes: new Proxy(e.Actor.Attributes, { has: () => true, get: (t, k) => (typeof k === 'string' ? (t[k] ?? '') : undefined) }) },
    Scope: e.scope,
    Time: e.time,
    TimeNano: e.timeNano,
  };
  Object.defineProperty(v, 'toJSON', { value: () => JSON.parse(e.raw), enumerable: false });
  return v;
}

// ---------------------------------------------------------------------------------------------
// The journal as a stream of lines.

/** Reads a file from an offset, handing out whole lines. */
class LineReader {
  private partial = '';
  constructor(
    readonly fd: number,
    public offset: number,
  ) {}

  read(): string[] {
    const out: string[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      const text = this.partial + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop()!;
      out.push(...lines);
    }
    return out;
  }
}

function openIfExists(path: string): number | null {
  try {
    return openSync(path, 'r');
  } catch {
    return null;
  }
}

export interface FollowOptions {
  /** Past events from this time on (ns); undefined: none, only new ones. */
  since?: bigint;
  /** Stop at this time (ns): past events up to it, then new ones until it has passed. */
  until?: bigint;
  onEvent: (e: EventMessage) => void;
  /** Ends the follow (SIGINT, SIGTERM). */
  signal: AbortSignal;
}

const POLL_MS = 250;

/** Past events (when since is given), then new ones until `until` or the abort. */
export async function follow(path: string, o: FollowOptions): Promise<void> {
  const inRange = (e: EventMessage) => (o.since === undefined || e.timeNano >= o.since) && (o.until === undefined || e.timeNano <= o.until);
  const deliver = (lines: string[], past: boolean) => {
    for (const l of lines) {
      const e = parseLine(l);
      if (!e) continue;
      if (past ? inRange(e) : o.until === undefined || e.timeNano <= o.until) o.onEvent(e);
    }
  };
  let cur: LineReader | null = null;
  const open = (fromStart: boolean): LineReader | null => {
    const fd = openIfExists(path);
    if (fd === null) return null;
    return new LineReader(fd, fromStart ? 0 : fstatSync(fd).size);
  };
  if (o.since !== undefined) {
    const old = openIfExists(`${path}.1`);
    if (old !== null) {
      try {
        deliver(new LineReader(old, 0).read(), true);
      } finally {
        closeSync(old);
      }
    }
    cur = open(true);
    if (cur) deliver(cur.read(), true);
  } else {
    cur = open(false);
  }
  const untilMs = o.until === undefined ? undefined : Number(o.until / 1_000_000n);
  if (untilMs !== undefined && untilMs <= Date.now()) {
    if (cur) closeSync(cur.fd);
    return;
  }
  // New events: woken by the directory's changes (the file may not exist yet, or be renamed),
  // and by a poll in case the watch misses something (or cannot be set up).
  let wake: () => void = () => {};
  let watcher: FSWatcher | undefined;
  const watchDir = () => {
    try {
      watcher = watch(dirname(path), (_ev, name) => {
        if (!name || name.toString().startsWith(basename(path))) wake();
      });
      watcher.on('error', () => {});
    } catch {
      /* no run dir yet: the poll, and another try at the next turn */
    }
  };
  watchDir();
  try {
    while (!o.signal.aborted) {
      if (!watcher) watchDir();
      if (untilMs !== undefined && Date.now() > untilMs) break;
      if (cur) deliver(cur.read(), false);
      // Rotated (or removed and made again): finish the old file, then take the new one from its start.
      let ino: number | null = null;
      try {
        ino = statSync(path).ino;
      } catch {
        /* not there (yet) */
      }
      if (cur && ino !== fstatSync(cur.fd).ino) {
        deliver(cur.read(), false);
        closeSync(cur.fd);
        cur = null;
      }
      if (!cur && ino !== null) {
        cur = open(true);
        continue;
      }
      const wait = untilMs === undefined ? POLL_MS : Math.max(1, Math.min(POLL_MS, untilMs - Date.now() + 1));
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          o.signal.removeEventListener('abort', done);
          wake = () => {};
          r();
        };
        const t = setTimeout(done, wait);
        o.signal.addEventListener('abort', done, { once: true });
        wake = done;
      });
    }
    if (cur) deliver(cur.read(), false); // what was written before the end
  } finally {
    watcher?.close();
    if (cur) closeSync(cur.fd);
  }
}

/**
 * --since/--until: `logs --since`'s parser (RFC 3339, Unix timestamps, durations back from now),
 * with the fraction of a second kept to the nanosecond (an event's own time, copied from a
 * line, then bounds it exactly).
 */
export function parseTimeNs(value: string, parseTime: (v: string) => Date | null): bigint | null {
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const frac = /^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$/.exec(value);
  if (frac) {
    const d = parseTime(`${frac[1]}${frac[3]}`);
    return d ? BigInt(d.getTime()) * 1_000_000n + BigInt(frac[2]!.slice(0, 9).padEnd(9, '0')) : null;
  }
  const d = parseTime(value);
  return d ? BigInt(d.getTime()) * 1_000_000n : null;
}
