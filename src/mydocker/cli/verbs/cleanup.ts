// The monitor's exit command (never typed by users): record the exit, release the container.
import { cleanupContainer } from '../../containers/lifecycle.js';
import { engineFor, type Globals } from '../globals.js';

export default function (id: string, _o: unknown, g: Globals): void {
  cleanupContainer(engineFor(g), id, { waitForClients: true });
}
