import { validateName } from '../../containers/store.js';
import { emitContainer } from '../../events/journal.js';
import { refreshHosts } from '../../network/hosts.js';
import { engineFor, type Globals } from '../globals.js';

export default function (ref: string, newName: string, _o: unknown, g: Globals): void {
  const engine = engineFor(g);
  const id = engine.containers.resolve(ref);
  const name = validateName(newName, 'rename');
  const unlock = engine.containers.lock(id);
  try {
    const rec = engine.containers.read(id);
    if (rec.Name === name) return;
    engine.containers.rename(id, rec.Name, name);
    const oldName = rec.Name;
    rec.Name = name;
    engine.containers.write(rec);
    emitContainer(engine, 'rename', rec, { oldName });
  } finally {
    unlock?.();
  }
  // Its neighbours on user networks know it by its new name (a no-op when it is not attached).
  refreshHosts(engine, Object.keys(engine.containers.read(id).Networks));
}
