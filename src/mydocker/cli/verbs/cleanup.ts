// The monitor's exit command (never typed by users): record the exit, release the container,
// and — when its restart policy wants it back — wait the back-off and start it again (this
// process is then the one `ps` shows as Restarting; see containers/restart.ts).
import { cleanupContainer, restartWhenDue } from '../../containers/lifecycle.js';
import { engineFor, type Globals } from '../globals.js';

export default async function (id: string, _o: unknown, g: Globals): Promise<void> {
  const engine = engineFor(g);
  cleanupContainer(engine, id, { waitForClients: true });
  await restartWhenDue(engine, id);
}
