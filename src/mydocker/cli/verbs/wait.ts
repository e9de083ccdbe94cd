import { waitContainer } from '../../containers/lifecycle.js';
import { engineFor, printLines, type Globals } from '../globals.js';

export default async function (refs: string[], _o: unknown, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const codes: string[] = [];
  for (const ref of refs) codes.push(String(await waitContainer(engine, engine.containers.resolve(ref))));
  printLines(codes);
}
