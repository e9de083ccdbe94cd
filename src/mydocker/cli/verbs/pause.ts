import { liveState } from '../../containers/status.js';
import { ConflictError } from '../../errors.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { forEach } from './each.js';

export default async function (refs: string[], _o: unknown, g: Globals): Promise<void> {
  const engine = engineFor(g);
  printLines(
    await forEach(refs, (ref) => {
      const id = engine.containers.resolve(ref);
      const live = liveState(engine, engine.containers.read(id));
      if (!live.Running) throw new ConflictError(`Container ${id} is not running`);
      if (live.Paused) throw new ConflictError(`Container ${id} is already paused`);
      engine.runtime.pause(id);
    }),
  );
}
