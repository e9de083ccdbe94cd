import { kill } from '../../container/lifecycle.js';
import { parseSignal } from '../../spec/tables.js';
import { store, type Globals } from '../globals.js';

export default function (id: string, signal: string, o: { all?: boolean }, g: Globals): void {
  kill(store(g), id, parseSignal(signal), o.all ?? false);
}
