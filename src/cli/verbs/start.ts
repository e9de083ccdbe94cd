import { start } from '../../container/lifecycle.js';
import { store, warn, type Globals } from '../globals.js';

export default function (id: string, _o: unknown, g: Globals): void {
  warn(g, start(store(g), id));
}
