import { features } from '../../spec/features.js';
import type { Globals } from '../globals.js';

export default function (_o: unknown, _g: Globals): void {
  process.stdout.write(`${JSON.stringify(features(), null, 4)}\n`);
}
