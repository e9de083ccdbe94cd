import { removeContainer } from '../../containers/lifecycle.js';
import { NotFoundError } from '../../errors.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { forEach } from './each.js';

export default async function (refs: string[], o: { force?: boolean; volumes?: boolean }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const done = await forEach(refs, async (ref) => {
    let id: string;
    try {
      id = engine.containers.resolve(ref);
    } catch (e) {
      // docker: rm -f of a missing container is not an error.
      if (o.force && e instanceof NotFoundError) return;
      throw e;
    }
    await removeContainer(engine, id, { force: o.force, volumes: o.volumes });
  });
  printLines(done);
}
