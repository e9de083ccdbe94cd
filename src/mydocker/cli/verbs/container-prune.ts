import { removeContainer } from '../../containers/lifecycle.js';
import { liveState } from '../../containers/status.js';
import { rootfsDirs } from '../../containers/rootfs.js';
import { treeSize } from '../../fs/tree-size.js';
import { humanSize } from '../../units.js';
import { engineFor, type Globals } from '../globals.js';
import { pruneFilter } from '../prune-filter.js';

export default async function (o: { filter?: string[] }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const keep = pruneFilter(o.filter ?? []);
  const removed: string[] = [];
  let reclaimed = 0;
  for (const rec of engine.containers.list()) {
    const s = liveState(engine, rec).Status;
    if (s !== 'exited' && s !== 'created' && s !== 'dead') continue;
    if (s === 'created' && engine.runtime.status(rec.Id) !== null) continue;
    if (!keep({ created: rec.Created, labels: rec.Config.Labels })) continue;
    try {
      const size = treeSize(rootfsDirs(engine.containers.path(rec.Id)).upper);
      await removeContainer(engine, rec.Id);
      removed.push(rec.Id);
      reclaimed += size;
    } catch (e) {
      process.stderr.write(`mydocker: ${(e as Error).message}\n`);
    }
  }
  process.stdout.write(`Deleted Containers:\n${removed.map((r) => `${r}\n`).join('')}\nTotal reclaimed space: ${humanSize(reclaimed)}\n`);
}
