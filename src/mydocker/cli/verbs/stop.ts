// `stop [-t N]`: the stop signal, N seconds, SIGKILL. Already stopped is fine.
import { stopContainer } from '../../containers/lifecycle.js';
import { InputError } from '../../errors.js';
import { engineFor, printLines, warn, type Globals } from '../globals.js';
import { forEach } from './each.js';

export default async function (refs: string[], o: { time?: string; signal?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  if (o.time !== undefined && !/^-?\d+$/.test(o.time)) throw new InputError(`invalid argument ${JSON.stringify(o.time)} for "-t, --time" flag: not an integer`);
  const done = await forEach(refs, async (ref) => stopContainer(engine, engine.containers.resolve(ref), o.time === undefined ? undefined : Number(o.time), o.signal, warn));
  printLines(done);
}
