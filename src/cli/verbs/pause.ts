import { pause } from '../../container/lifecycle.js';
import { store, type Globals } from '../globals.js';

export default function (id: string, _o: unknown, g: Globals): void {
  pause(store(g), id);
}
