// `logs [-f] [-n N] [-t] [--since] [--until]`: stdout and stderr of a container, in order.
import { join } from 'node:path';
import { filterLines, LogReader, parseTime, type LogLine } from '../../containers/logs.js';
import { liveState } from '../../containers/status.js';
import { InputError, MydockerError } from '../../errors.js';
import { engineFor, type Globals } from '../globals.js';

interface LogsOptions {
  follow?: boolean;
  tail: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default async function (ref: string, o: LogsOptions, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const id = engine.containers.resolve(ref);
  if (engine.containers.read(id).HostConfig.LogConfig?.Type === 'none') {
    throw new MydockerError('configured logging driver does not support reading (the container runs with --log-driver none)');
  }
  const tail = o.tail === 'all' || o.tail === '-1' ? undefined : Number(o.tail);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new InputError(`invalid argument ${JSON.stringify(o.tail)} for "-n, --tail" flag: a number of lines or "all"`);
  const since = o.since ? parseTime(o.since) : undefined;
  const until = o.until ? parseTime(o.until) : undefined;
  if (since === null) throw new InputError(`--since ${o.since}: not a time (RFC 3339, a Unix timestamp or a duration like 10m)`);
  if (until === null) throw new InputError(`--until ${o.until}: not a time (RFC 3339, a Unix timestamp or a duration like 10m)`);
  const reader = new LogReader(join(engine.containers.path(id), 'ctr.log'));
  const write = (lines: LogLine[]) => {
    for (const l of lines) {
      const text = o.timestamps ? `${l.time} ${l.text}` : l.text;
      (l.stream === 'stderr' ? process.stderr : process.stdout).write(text);
    }
  };
  // Without -f, a last line with no newline yet is shown as it is (with -f it may still grow).
  write(filterLines([...reader.read(), ...(o.follow ? [] : reader.flush())], { tail, since: since ?? undefined, until: until ?? undefined }));
  if (!o.follow) return;
  // -f: until the container stops (then whatever conmon flushed last).
  for (;;) {
    let running = false;
    try {
      running = liveState(engine, engine.containers.read(id)).Running;
    } catch {
      running = false;
    }
    write(filterLines(reader.read(), { since: since ?? undefined, until: until ?? undefined }));
    if (!running) {
      await sleep(50);
      write([...reader.read(), ...reader.flush()]);
      return;
    }
    await sleep(100);
  }
}
