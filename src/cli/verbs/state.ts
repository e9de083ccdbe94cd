import { stateJson } from '../../container/lifecycle.js';
import { store, type Globals } from '../globals.js';
import { writeStdout } from '../stdout.js';

export default function (id: string, _o: unknown, g: Globals): void {
  writeStdout(`${JSON.stringify(stateJson(store(g), id), null, 2)}\n`);
}
