// `events [--since T] [--until T] [-f k=v]… [--format T]` (and `system events`): docker's, read
// from the journal every mydocker process appends to (../../events/journal.ts). Without --since
// only new events; without --until it follows until SIGINT/SIGTERM (exit 0).
import { parseTime } from '../../containers/logs.js';
import { InputError } from '../../errors.js';
import { journalPath } from '../../events/journal.js';
import { follow, matches, parseFilters, parseTimeNs, prettyLine, templateValue } from '../../events/read.js';
import { engineFor, type Globals } from '../globals.js';
import { compile } from '../template.js';

interface EventsOptions {
  since?: string;
  until?: string;
  filter?: string[];
  format?: string;
}

export default async function (o: EventsOptions, g: Globals): Promise<number> {
  const engine = engineFor(g);
  const time = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const t = parseTimeNs(v, (x) => parseTime(x));
    if (t === null) throw new InputError(`--${flag} ${v}: not a time (RFC 3339, a Unix timestamp or a duration like 10m)`);
    return t;
  };
  const since = time('since', o.since);
  const until = time('until', o.until);
  const filters = parseFilters(o.filter ?? []);
  const format = o.format?.trim();
  // `{{json .}}` is the journal's line itself (its timeNano, an int64, never through a double).
  const raw = format === 'json' || (format !== undefined && /^\{\{\s*json\s+\.\s*\}\}$/.test(format));
  const template = format && !raw ? compile(format) : undefined;
  const line = template
    ? (e: Parameters<typeof prettyLine>[0]) => template.exec(templateValue(e))
    : raw
      ? (e: Parameters<typeof prettyLine>[0]) => e.raw
      : prettyLine;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await follow(journalPath(engine.paths.run), {
      // docker: --until alone shows the past up to it.
      since: since ?? (until !== undefined ? 0n : undefined),
      until,
      signal: stop.signal,
      onEvent: (e) => {
        if (matches(filters, e)) process.stdout.write(`${line(e)}\n`);
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
