// `diff`: the container's filesystem changes, docker's "A|C|D path" lines (containers/diff.ts).
import { isAbsolute, join } from 'node:path';
import { containerChanges } from '../../containers/diff.js';
import { containerLower, rootfsDirs } from '../../containers/rootfs.js';
import { MydockerError } from '../../errors.js';
import { engineFor, printLines, type Globals } from '../globals.js';

const KIND = ['C', 'A', 'D'] as const;

export default async function (ref: string, _o: unknown, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const id = engine.containers.resolve(ref);
  const rec = engine.containers.read(id);
  const image = engine.findImage(rec.ImageId);
  if (!image) throw new MydockerError(`container ${rec.Name}: its image ${rec.ImageId} is gone`);
  const { lowerdir, cwd } = await containerLower(engine, image);
  const lowers = lowerdir.split(':').map((l) => (isAbsolute(l) || !cwd ? l : join(cwd, l)));
  const changes = containerChanges(rootfsDirs(engine.containers.path(id)).upper, lowers);
  printLines(changes.map((c) => `${KIND[c.Kind]} ${c.Path}`));
}
