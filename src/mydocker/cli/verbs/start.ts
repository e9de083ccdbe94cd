// `start`: start created or stopped containers; -a attaches the (single) container's output.
import { cleanupContainer, holdAttachLock, removeContainer, startContainer } from '../../containers/lifecycle.js';
import { liveState } from '../../containers/status.js';
import { InputError } from '../../errors.js';
import { foreground, parseDetachKeys, terminalSize } from '../foreground.js';
import { engineFor, printLines, type Globals } from '../globals.js';

export default async function (refs: string[], o: { attach?: boolean; interactive?: boolean; detachKeys?: string }, g: Globals): Promise<number> {
  const engine = engineFor(g);
  if ((o.attach || o.interactive) && refs.length > 1) throw new InputError('you cannot start and attach multiple containers at once');
  if (o.attach || o.interactive) {
    const id = engine.containers.resolve(refs[0]!);
    const rec = engine.containers.read(id);
    const session = foreground(engine, id, { stdin: !!o.interactive && rec.Config.OpenStdin, tty: rec.Config.Tty, ...(o.detachKeys !== undefined ? { detachKeys: parseDetachKeys(o.detachKeys) } : {}) });
    const release = holdAttachLock(engine, id);
    try {
      const started = await startContainer(engine, id, { beforeStart: (m) => session.beforeStart(m), consoleSize: terminalSize() });
      if ((await session.done()) === 'detached') {
        started.monitor.release();
        return 0;
      }
      session.close();
      const code = liveState(engine, engine.containers.read(id)).ExitCode;
      if (rec.HostConfig.AutoRemove) await removeContainer(engine, id, { force: true, volumes: true });
      else cleanupContainer(engine, id);
      return code;
    } finally {
      session.close();
      release();
    }
  }
  const done: string[] = [];
  let failed: unknown;
  for (const ref of refs) {
    try {
      const id = engine.containers.resolve(ref);
      const live = liveState(engine, engine.containers.read(id));
      // docker: a restarting container counts as running; its policy is about to start it.
      if (!live.Running && live.Status !== 'restarting') (await startContainer(engine, id)).monitor.release();
      done.push(ref);
    } catch (e) {
      failed ??= e;
      process.stderr.write(`mydocker: ${(e as Error).message}\n`);
    }
  }
  printLines(done);
  if (failed) throw failed;
  return 0;
}
