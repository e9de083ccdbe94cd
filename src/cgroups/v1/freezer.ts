// The v1 freezer: freezer.state FROZEN / THAWED. A freeze passes through FREEZING until every
// task has stopped; a task in an uninterruptible sleep can keep it there, so we write FROZEN
// again while waiting (as runc does) and give up after `timeoutMs`, thawing what we froze.
import { RuntimeError } from '../../errors.js';
import { type CgroupDir, sleepMs } from '../dir.js';

const FILE = 'freezer.state';

export function freezeV1(dir: CgroupDir, timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (i % 50 === 0) dir.write('freeze', FILE, 'FROZEN');
    const state = dir.read(FILE);
    if (state === 'FROZEN') return;
    if (Date.now() > deadline) {
      dir.write('freeze', FILE, 'THAWED');
      throw new RuntimeError(`freeze ${dir.path}: still ${state} after ${timeoutMs} ms`);
    }
    sleepMs(i < 10 ? 1 : 10);
  }
}

export function thawV1(dir: CgroupDir, timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  dir.write('thaw', FILE, 'THAWED');
  for (let i = 0; dir.read(FILE) !== 'THAWED'; i++) {
    if (Date.now() > deadline) throw new RuntimeError(`thaw ${dir.path}: still ${dir.read(FILE)} after ${timeoutMs} ms`);
    sleepMs(i < 10 ? 1 : 10);
  }
}

export function isFrozenV1(dir: CgroupDir): boolean {
  return dir.read(FILE) === 'FROZEN';
}
