import { resume } from '../../container/lifecycle.js';
import { store, type Globals } from '../globals.js';

export default function (id: string, _o: unknown, g: Globals): void {
  resume(store(g), id);
}
