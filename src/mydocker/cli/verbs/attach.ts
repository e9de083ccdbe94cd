// `attach CONTAINER`: our terminal to a running container, as docker's — its output from now on
// (through conmon's attach socket), our stdin when it was started with -i (unless --no-stdin),
// its exit code when it ends; the detach keys (ctrl-p ctrl-q) leave it running.
import { holdAttachLock, waitContainer } from '../../containers/lifecycle.js';
import { liveState } from '../../containers/status.js';
import { emitContainer } from '../../events/journal.js';
import { ConflictError, InputError } from '../../errors.js';
import { foreground, parseDetachKeys } from '../foreground.js';
import { engineFor, type Globals } from '../globals.js';

export default async function (ref: string, o: { stdin?: boolean; sigProxy?: string; detachKeys?: string }, g: Globals): Promise<number> {
  const engine = engineFor(g);
  if (o.sigProxy !== undefined && !['true', 'false'].includes(o.sigProxy)) throw new InputError(`invalid argument ${JSON.stringify(o.sigProxy)} for "--sig-proxy" flag: want true or false`);
  const detachKeys = o.detachKeys !== undefined ? parseDetachKeys(o.detachKeys) : undefined;
  const id = engine.containers.resolve(ref);
  const rec = engine.containers.read(id);
  const live = liveState(engine, rec);
  if (!live.Running) throw new ConflictError('You cannot attach to a stopped container, start it first');
  if (live.Paused) throw new ConflictError('You cannot attach to a paused container, unpause it first');
  if (!rec.State.Monitored) throw new ConflictError(`container ${rec.Name} has no monitor to attach to`);
  const tty = rec.Config.Tty;
  if (tty && o.stdin !== false && rec.Config.OpenStdin && !process.stdin.isTTY) throw new InputError('the input device is not a TTY (use --no-stdin, or attach from a terminal)');
  const session = foreground(engine, id, {
    stdin: o.stdin !== false && rec.Config.OpenStdin,
    tty,
    sigProxy: o.sigProxy !== 'false',
    ...(detachKeys ? { detachKeys } : {}),
  });
  // Held until we have read the exit code: the monitor's cleanup (and --rm) waits for it.
  const release = holdAttachLock(engine, id);
  emitContainer(engine, 'attach', rec);
  const waiting = new AbortController(); // a detach stops the wait for the exit
  try {
    session.attachRunning(waitContainer(engine, id, waiting.signal).then(() => undefined));
    if ((await session.done()) === 'detached') return 0;
    session.close();
    return liveState(engine, engine.containers.read(id)).ExitCode;
  } finally {
    waiting.abort();
    session.close();
    release();
  }
}
