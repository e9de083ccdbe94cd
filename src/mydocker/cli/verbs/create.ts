// `create`: a container from an image, not started; prints its id.
import { createContainer } from '../../containers/lifecycle.js';
import type { RunFlags } from '../../containers/options.js';
import { resolveRunTarget } from '../../images/resolve.js';
import { engineFor, warn, type Globals } from '../globals.js';

export default async function (imageArg: string, command: string[], o: RunFlags, g: Globals): Promise<void> {
  const engine = engineFor(g);
  // Held from resolving the image until the record names it: no rmi in between.
  const release = await engine.images.hold();
  let record;
  try {
    const target = await resolveRunTarget(engine, imageArg, command);
    let warnings;
    ({ record, warnings } = await createContainer(engine, target.imageRef, target.image, target.command, o));
    for (const w of warnings) warn(w);
  } finally {
    release();
  }
  process.stdout.write(`${record.Id}\n`);
}
