// `start`: start created or stopped containers; -a attaches the (single) container's output.
import { finishForeground, holdAttachLock, startContainer } from '../../containers/lifecycle.js';
import { liveState } from '../../containers/status.js';
import { emitContainer } from '../../events/journal.js';
import { InputError } from '../../errors.js';
import { foreground, parseDetachKeys, terminalSize } from '../foreground.js';
import { engineFor, printLines, warn, type Globals } from '../globals.js';
import { forEach } from './each.js';

export default async function (refs: string[], o: { attach?: boolean; interactive?: boolean; detachKeys?: string }, g: Globals): Promise<number> {
  const engine = engineFor(g);
  if ((o.attach || o.interactive) && refs.length > 1) throw new InputError('you cannot start and attach multiple containers at once');
  if (o.attach || o.interactive) {
    const id = engine.containers.resolve(refs[0]!);
    const rec = engine.containers.read(id);
    const session = foreground(engine, id, { stdin: !!o.interactive && rec.Config.OpenStdin, tty: rec.Config.Tty, ...(o.detachKeys !== undefined ? { detachKeys: parseDetachKeys(o.detachKeys) } : {}) });
    const release = holdAttachLock(engine, id);
    emitContainer(engine, 'attach', rec);
    try {
      const started = await startContainer(engine, id, { beforeStart: (m) => session.beforeStart(m), consoleSize: terminalSize() });
      if ((await session.done()) === 'detached') {
        started.monitor.release();
        return 0;
      }
      session.close();
      return await finishForeground(engine, id, rec.HostConfig.AutoRemove, warn);
    } finally {
      session.close();
      release();
    }
  }
  const done = await forEach(refs, async (ref) => {
    const id = engine.containers.resolve(ref);
    const live = liveState(engine, engine.containers.read(id));
    // docker: a restarting container counts as running; its policy is about to start it.
    if (!live.Running && live.Status !== 'restarting') (await startContainer(engine, id)).monitor.release();
  });
  printLines(done);
  return 0;
}
