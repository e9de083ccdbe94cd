// Pull and push progress as docker draws it: one line per layer, rewritten in place on a
// terminal ("a3ed95caeb02: Downloading [=====>        ]  1.23MB/4.56MB", "Pull complete"),
// and the lines of their own ("Digest: …", "Status: …") below. Without a terminal only the
// lines of their own are printed (no per-layer chatter in scripts and logs); -q prints
// nothing but the result the verb prints itself.
import { humanSize } from '../units.js';

export interface TransferReporter {
  /** A layer's status; `progress` for Downloading/Extracting/Pushing. */
  layer(id: string, status: string, progress?: { current: number; total: number }): void;
  /** A line of its own. */
  line(text: string): void;
}

export interface TransferRenderer extends TransferReporter {
  stop(): void;
}

/** docker's progress bar: "[====>      ]  1.2MB/3.4MB" (the bar only on a wide terminal). */
export function progressText(p: { current: number; total: number }, width: number): string {
  if (p.current <= 0 && p.total <= 0) return '';
  if (p.total <= 0) return humanSize(p.current).padStart(8);
  let pct = Math.floor((p.current / p.total) * 100 / 2);
  if (pct > 50) pct = 50;
  const bar = width > 110 ? `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ` : '';
  const numbers = p.current > p.total ? '' : `${humanSize(p.current).padStart(8)}/${humanSize(p.total)}`;
  return bar + numbers;
}

const silent: TransferRenderer = { layer() {}, line() {}, stop() {} };

/**
 * A renderer for `out`: in-place lines on a terminal; on anything else, only the lines of
 * their own; nothing at all when quiet.
 */
export function transferRenderer(out: NodeJS.WriteStream, opts: { quiet?: boolean } = {}): TransferRenderer {
  if (opts.quiet) return silent;
  if (!out.isTTY) return { layer() {}, line: (t) => void out.write(`${t}\n`), stop() {} };
  const ids: string[] = [];
  const rows = new Map<string, number>();
  const last = new Map<string, { status: string; at: number }>();
  let lines = 0;
  const fit = (t: string) => {
    const cols = out.columns || 80;
    return t.length >= cols ? t.slice(0, cols - 1) : t;
  };
  return {
    layer(id, status, progress) {
      const now = Date.now();
      const prev = last.get(id);
      // Progress updates at most ten times a second per layer; status changes at once.
      if (progress && prev && prev.status === status && now - prev.at < 100 && progress.current < progress.total) return;
      last.set(id, { status, at: now });
      const text = fit(`${id}: ${status}${progress ? ` ${progressText(progress, out.columns || 80)}` : ''}`);
      const row = rows.get(id);
      if (row === undefined) {
        rows.set(id, lines);
        ids.push(id);
        out.write(`\x1b[2K\r${text}\n`);
        lines++;
        return;
      }
      const up = lines - row;
      out.write(`\x1b[${up}A\x1b[2K\r${text}\r\x1b[${up}B`);
    },
    line(t) {
      out.write(`\x1b[2K\r${t}\n`);
      lines++;
    },
    stop() {},
  };
}
