import { liveState } from '../../containers/status.js';
import { ConflictError } from '../../errors.js';
import { emitContainer } from '../../events/journal.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { forEach } from './each.js';

export default async function (refs: string[], _o: unknown, g: Globals): Promise<void> {
  const engine = engineFor(g);
  printLines(
    await forEach(refs, (ref) => {
      const id = engine.containers.resolve(ref);
      const rec = engine.containers.read(id);
      if (!liveState(engine, rec).Paused) throw new ConflictError(`Container ${id} is not paused`);
      engine.runtime.resume(id);
      emitContainer(engine, 'unpause', rec);
    }),
  );
}
