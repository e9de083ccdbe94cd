// `create`: a container from an image, not started; prints its id.
import { createContainer } from '../../containers/lifecycle.js';
import type { RunFlags } from '../../containers/options.js';
import { resolveRunTarget } from '../../images/resolve.js';
import { engineFor, type Globals } from '../globals.js';

export default function (imageArg: string, command: string[], o: RunFlags, g: Globals): void {
  const engine = engineFor(g);
  const target = resolveRunTarget(engine, imageArg, command);
  const { record } = createContainer(engine, target.imageRef, target.image, target.command, o);
  process.stdout.write(`${record.Id}\n`);
}
