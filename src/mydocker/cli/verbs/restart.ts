// `restart`: stop, then start.
import { startContainer, stopContainer } from '../../containers/lifecycle.js';
import { emitContainer } from '../../events/journal.js';
import { InputError } from '../../errors.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { forEach } from './each.js';

export default async function (refs: string[], o: { time?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  if (o.time !== undefined && !/^-?\d+$/.test(o.time)) throw new InputError(`invalid argument ${JSON.stringify(o.time)} for "-t, --time" flag: not an integer`);
  const done = await forEach(refs, async (ref) => {
    const id = engine.containers.resolve(ref);
    await stopContainer(engine, id, o.time === undefined ? undefined : Number(o.time));
    // A start by the user: as docker, RestartCount (the policy's restarts) starts over at 0.
    (await startContainer(engine, id)).monitor.release();
    emitContainer(engine, 'restart', engine.containers.read(id));
  });
  printLines(done);
}
