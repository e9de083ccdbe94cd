import { stateJson } from '../../container/lifecycle.js';
import { store, type Globals } from '../globals.js';

export default function (id: string, _o: unknown, g: Globals): void {
  process.stdout.write(`${JSON.stringify(stateJson(store(g), id), null, 2)}\n`);
}
