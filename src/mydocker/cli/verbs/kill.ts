import { killContainer } from '../../containers/lifecycle.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { forEach } from './each.js';

export default async function (refs: string[], o: { signal: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  printLines(await forEach(refs, (ref) => killContainer(engine, engine.containers.resolve(ref), o.signal)));
}
