// What every verb gets: the global flags, and the engine they select.
import { Engine } from '../engine.js';

export interface Globals {
  root?: string;
  debug?: boolean;
}

export function engineFor(g: Globals): Engine {
  return new Engine({ root: g.root || undefined });
}

/** One line per id on stdout (docker prints the name or id it acted on). */
export function printLines(lines: string[]): void {
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
}

/** docker's warning line on stderr (the command goes on). */
export function warn(message: string): void {
  process.stderr.write(`WARNING: ${message}\n`);
}
