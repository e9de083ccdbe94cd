// A container's log: what conmon wrote, one record per line in the CRI format
//   2026-11-30T01:55:30.345876917+00:00 stdout F hello
// (time, stream, F for a full line / P for a part of one too long or not yet ended, the text).
// It holds stdout and stderr in the order conmon read them, like docker's json-file driver.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export interface LogLine {
  /** RFC 3339 with nanoseconds, in UTC ("…Z"), as docker prints with -t. */
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text, with its newline when the line was complete. */
  text: string;
}

/** Parse complete records (each ends with \n); returns the lines and the bytes consumed. */
export function parseLog(buf: string, pending: Map<string, LogLine> = new Map()): { lines: LogLine[]; used: number } {
  const lines: LogLine[] = [];
  let used = 0;
  for (;;) {
    const nl = buf.indexOf('\n', used);
    if (nl < 0) break;
    const rec = buf.slice(used, nl);
    used = nl + 1;
    const m = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/s.exec(rec);
    if (!m) continue;
    const [, time = '', stream, tag, text = ''] = m;
    const iso = time.replace(/\+00:00$/, 'Z');
    const prev = pending.get(stream!);
    if (tag === 'P') {
      pending.set(stream!, prev ? { ...prev, text: prev.text + text } : { time: iso, stream: stream as LogLine['stream'], text });
      continue;
    }
    pending.delete(stream!);
    lines.push(prev ? { ...prev, text: `${prev.text}${text}\n` } : { time: iso, stream: stream as LogLine['stream'], text: `${text}\n` });
  }
  return { lines, used };
}

export interface LogFilter {
  /** Last n lines (undefined: all). */
  tail?: number;
  since?: Date;
  until?: Date;
}

export function filterLines(lines: LogLine[], f: LogFilter): LogLine[] {
  let out = lines;
  if (f.since) out = out.filter((l) => Date.parse(l.time) >= f.since!.getTime());
  if (f.until) out = out.filter((l) => Date.parse(l.time) <= f.until!.getTime());
  if (f.tail !== undefined) out = f.tail === 0 ? [] : out.slice(-f.tail);
  return out;
}

/** An incremental reader: everything so far, then what was appended since (for -f). */
export class LogReader {
  private offset = 0;
  private rest = '';
  private readonly pending = new Map<string, LogLine>();

  constructor(private readonly path: string) {}

  read(): LogLine[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const size = statSync(this.path).size;
      if (size < this.offset) {
        // Truncated or rotated: start over.
        this.offset = 0;
        this.rest = '';
      }
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
        this.offset += n;
      }
      const text = this.rest + Buffer.concat(chunks).toString('utf8');
      const { lines, used } = parseLog(text, this.pending);
      this.rest = text.slice(used);
      return lines;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Partial lines still waiting for their end: at the end of a stopped container's log they
   * are the last thing it wrote without a newline, shown as docker does.
   */
  flush(): LogLine[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }
}


/** "10m", "1h30m", "45s" → ms; an RFC 3339 time or a Unix timestamp → a Date. */
export function parseTime(value: string, now = Date.now()): Date | null {
  const d = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (d && value) return new Date(now - ((Number(d[1] ?? 0) * 60 + Number(d[2] ?? 0)) * 60 + Number(d[3] ?? 0)) * 1000);
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000);
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t);
}
