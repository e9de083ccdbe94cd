import { remove } from '../../container/lifecycle.js';
import { store, warn, type Globals } from '../globals.js';

export default function (id: string, o: { force?: boolean }, g: Globals): void {
  warn(g, remove(store(g), id, o.force ?? false));
}
