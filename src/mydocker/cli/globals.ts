// What every verb gets: the global flags, and the engine they select.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Engine } from '../engine.js';
import { DirImages } from '../images/dir-backend.js';

export interface Globals {
  root?: string;
  debug?: boolean;
}

export function engineFor(g: Globals): Engine {
  const engine = new Engine({ root: g.root || undefined });
  // Until the content store lands: the fixtures' busybox rootfs as the one image.
  let dir = dirname(engine.runtimeCli);
  let rootfs = join(dir, '..', 'bundles', 'rootfs');
  for (let i = 0; i < 3 && !existsSync(rootfs); i++) {
    dir = dirname(dir);
    rootfs = join(dir, 'bundles', 'rootfs');
  }
  engine.setImages(new DirImages(rootfs));
  return engine;
}

/** One line per id on stdout (docker prints the name or id it acted on). */
export function printLines(lines: string[]): void {
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
}
