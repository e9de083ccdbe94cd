// Phase timestamps for finding where a container's start-up time goes (no guessing).
//
// MYDOCKER_RUNC_TRACE=1 makes the CLI and the init print one line per phase to stderr:
//   mydocker-runc trace <epoch ms, µs precision> <pid> <who> <phase>
// Epoch times (performance.timeOrigin + now) line up across processes, so the CLI's and the
// init's lines can be merged and sorted; `node test/bench/bench.mjs --trace` does that. Each
// process also reports Node's own boot milestones (performance.nodeTiming) and, when it ends
// or execs, its peak RSS (VmHWM).
//
// MYDOCKER_RUNC_TRACE=/abs/file appends the lines to that file instead: the way to see the
// processes whose stderr is not ours (the runtime under conmon, mydocker's cleanup command).
//
// Off (the default), trace() is one boolean test: the env is read once, at load. The init
// gets the variable from the runtime (launch.ts), nothing else of the runtime's environment.
import { appendFileSync, readFileSync, writeSync } from 'node:fs';

const setting = process.env.MYDOCKER_RUNC_TRACE ?? '';
export const tracing = setting === '1' || setting.startsWith('/');
// Which program this is: dist/init.js, dist/exec-init.js, mydocker, or the runtime's CLI.
const who = /(?:^|\/)(exec-init|init|mydocker)\.js$/.exec(process.argv[1] ?? '')?.[1] ?? 'cli';

function line(t: number, phase: string): void {
  const text = `mydocker-runc trace ${t.toFixed(3)} ${process.pid} ${who} ${phase}\n`;
  try {
    if (setting.startsWith('/')) appendFileSync(setting, text);
    else writeSync(2, text);
  } catch {
    /* stderr closed: tracing must never fail an operation */
  }
}

/** One phase mark (no-op unless MYDOCKER_RUNC_TRACE=1). */
export function trace(phase: string): void {
  if (tracing) line(performance.timeOrigin + performance.now(), phase);
}

/**
 * Node's boot milestones (process start → this module's first line), printed once when this
 * module loads. Import trace.ts first in an entry point so that the next mark, e.g. "main
 * module running", measures the loading of everything else.
 */
function traceBoot(): void {
  const o = performance.timeOrigin;
  const nt = performance.nodeTiming;
  line(o, 'process start (timeOrigin)');
  line(o + nt.v8Start, 'node: v8 started');
  line(o + nt.environment, 'node: environment ready');
  line(o + nt.bootstrapComplete, 'node: bootstrap complete');
  trace('trace.ts loaded (first module)');
  process.once('exit', () => traceRss('exit'));
}
if (tracing) traceBoot();

/** Peak RSS so far (VmHWM), e.g. right before execve, which resets it. */
export function traceRss(when: string): void {
  if (!tracing) return;
  let hwm = '?';
  try {
    hwm = /VmHWM:\s*(\d+ kB)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '?';
  } catch {
    /* /proc not mounted (after pivot_root without proc) */
  }
  trace(`peak rss ${hwm} (${when})`);
}
