import { removeContainer } from '../../containers/lifecycle.js';
import { liveState } from '../../containers/status.js';
import { engineFor, type Globals } from '../globals.js';

export default async function (_o: unknown, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const removed: string[] = [];
  for (const rec of engine.containers.list()) {
    const s = liveState(engine, rec).Status;
    if (s !== 'exited' && s !== 'created' && s !== 'dead') continue;
    if (s === 'created' && engine.runtime.status(rec.Id) !== null) continue;
    try {
      await removeContainer(engine, rec.Id);
      removed.push(rec.Id);
    } catch (e) {
      process.stderr.write(`mydocker: ${(e as Error).message}\n`);
    }
  }
  process.stdout.write(`Deleted Containers:\n${removed.map((r) => `${r}\n`).join('')}\nTotal reclaimed space: 0B\n`);
}
