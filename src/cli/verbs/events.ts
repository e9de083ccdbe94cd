// `events [--stats] [--interval D] <id>`: runc's container events.
//
//   --stats        one {"type":"stats","id":…,"data":{…}} line (go-runc Stats()), then exit;
//   otherwise      a stream: a stats event every --interval (a Go duration, default 5s) and an
//                  {"type":"oom","id":…} event each time the kernel OOM-kills in the container,
//                  until the container has stopped or been deleted.
// runc keeps streaming a stopped container's (empty) stats until `delete` removes its cgroup;
// we end the stream when the container stops, as no client reads events past its exit
// (containerd's v2 shim does not call `events` at all).
//
// OOM notifications come from cgroups/oom.ts (v1 eventfd on memory.oom_control, v2
// memory.events' oom_kill counter).
import { closeSync } from 'node:fs';
import { cgroupManager, statsToJSON } from '../../cgroups/index.js';
import { oomKillCount, watchOom, type OomWatch } from '../../cgroups/oom.js';
import { load } from '../../container/lifecycle.js';
import { initAlive } from '../../container/state.js';
import { pidfdOpen } from '../../kernel/process.js';
import { errorLine, NotExistError, StateError, UsageError } from '../../errors.js';
import { watchReadable } from '../../kernel/eventfd.js';
import { log, store, type Globals } from '../globals.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go time.Duration string ("5s", "1m30s", "250ms", "1.5h") in milliseconds. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = re.lastIndex;
  }
  if (!text || end !== text.length) throw new UsageError(`invalid value ${JSON.stringify(text)} for flag -interval: parse error`);
  return total;
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${statsToJSON(event)}\n`);
}

export default async function (id: string, o: { stats?: boolean; interval: string }, g: Globals): Promise<void> {
  const interval = parseDuration(o.interval);
  if (interval <= 0) throw new UsageError('duration interval must be greater than 0');
  const s = store(g);
  const c = load(s, id);
  if (c.status === 'stopped') throw new StateError(`container with id ${id} is not running`);
  const cg = cgroupManager(c.state.cgroup);
  if (o.stats) {
    emit({ type: 'stats', id, data: cg.stats() });
    return;
  }

  await new Promise<void>((resolve) => {
    let oom: OomWatch | undefined;
    let exit: { close(): void } | undefined;
    let done = false;
    // OOM kills counted by the kernel since we started, and how many we reported: an OOM
    // that kills the init ends the stream (its pidfd) before the watch's notification may be
    // read, so the last word goes to the counter.
    const oomAtStart = oomKillCount(cg);
    let oomReported = 0;
    const reportOom = () => {
      oomReported++;
      emit({ type: 'oom', id });
    };
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      oom?.stop();
      exit?.close();
      const now = oomKillCount(cg);
      if (oomAtStart >= 0 && now >= 0) while (oomReported < now - oomAtStart) reportOom();
      resolve();
    };
    const running = () => {
      try {
        return load(s, id).status !== 'stopped';
      } catch (e) {
        if (e instanceof NotExistError) return false;
        throw e;
      }
    };
    const timer = setInterval(() => {
      try {
        if (!running()) return finish();
        emit({ type: 'stats', id, data: cg.stats() });
      } catch (e) {
        // As runc: a failed sample is logged and the stream goes on.
        log(g, 'error', errorLine(e));
      }
    }, Math.min(interval, 2 ** 31 - 1));
    // The init's exit ends the stream at once (a pidfd turns readable when it exits), not
    // only at the next sample; the start time check makes sure the pid is still the init.
    try {
      const pidfd = pidfdOpen(c.state.pid);
      if (!initAlive(c.state)) {
        closeSync(pidfd);
        return finish();
      }
      const w = watchReadable(pidfd, finish);
      exit = {
        close: () => {
          w.close();
          closeSync(pidfd);
        },
      };
    } catch {
      return finish(); // no such process: it has exited already
    }
    try {
      oom = watchOom(cg, reportOom, { onGone: finish });
    } catch (e) {
      log(g, 'warning', `events: no OOM notifications: ${errorLine(e)}`);
    }
  });
}
