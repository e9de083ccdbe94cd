// `update`: containers' resources and restart policy (containers/update.ts).
import { updateContainer, type UpdateFlags } from '../../containers/update.js';
import { InputError } from '../../errors.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { forEach } from './each.js';

export default async function (refs: string[], o: UpdateFlags, g: Globals): Promise<void> {
  if (!Object.values(o).some((v) => v !== undefined)) throw new InputError('update: you must provide one or more flags (--memory, --cpus, --restart, …)');
  const engine = engineFor(g);
  printLines(await forEach(refs, (ref) => updateContainer(engine, engine.containers.resolve(ref), o)));
}
