// The cgroup v2 freezer: write 1/0 to cgroup.freeze, then wait until cgroup.events says
// "frozen 1"/"frozen 0" (the kernel freezes asynchronously). A freeze that does not settle
// within `timeoutMs` is undone and reported.
import { RuntimeError } from '../../errors.js';
import { type CgroupDir, sleepMs } from '../dir.js';

function eventsFrozen(dir: CgroupDir): boolean | undefined {
  const events = dir.readIf('cgroup.events');
  if (events === undefined) return undefined;
  const m = /^frozen (\d)$/m.exec(events);
  return m ? m[1] === '1' : undefined;
}

function waitFor(dir: CgroupDir, want: boolean, what: string, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const got = eventsFrozen(dir);
    if (got === undefined || got === want) return;
    if (Date.now() > deadline) {
      throw new RuntimeError(`${what} ${dir.path}: cgroup.events still says frozen ${got ? 1 : 0} after ${timeoutMs} ms`);
    }
    sleepMs(i < 10 ? 1 : 10);
  }
}

export function freezeV2(dir: CgroupDir, timeoutMs = 10_000): void {
  if (!dir.has('cgroup.freeze')) throw new RuntimeError(`freeze ${dir.path}: this kernel has no cgroup.freeze (Linux 5.2+)`);
  dir.write('freeze', 'cgroup.freeze', '1');
  try {
    waitFor(dir, true, 'freeze', timeoutMs);
  } catch (e) {
    dir.write('freeze', 'cgroup.freeze', '0');
    throw e;
  }
}

export function thawV2(dir: CgroupDir, timeoutMs = 10_000): void {
  if (!dir.has('cgroup.freeze')) return;
  dir.write('thaw', 'cgroup.freeze', '0');
  waitFor(dir, false, 'thaw', timeoutMs);
}

export function isFrozenV2(dir: CgroupDir): boolean {
  const ev = eventsFrozen(dir);
  if (ev !== undefined) return ev;
  return dir.readIf('cgroup.freeze') === '1';
}
