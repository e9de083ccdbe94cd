// `run`: create + start, then -d prints the id, or the container runs in the foreground and
// its exit status is ours (--rm removes it afterwards).
import { trace } from '../../../trace.js';
import { holdAttachLock, finishForeground, removeContainer, startContainer } from '../../containers/lifecycle.js';
import type { RunFlags } from '../../containers/options.js';
import { emitContainer } from '../../events/journal.js';
import { InputError } from '../../errors.js';
import { foreground, parseDetachKeys, terminalSize } from '../foreground.js';
import { engineFor, warn, type Globals } from '../globals.js';
import { createFor } from './create.js';

export default async function (imageArg: string, command: string[], o: RunFlags, g: Globals): Promise<number> {
  const engine = engineFor(g);
  if (o.interactive && o.tty && !o.detach && !process.stdin.isTTY) throw new InputError('the input device is not a TTY (drop -t, or run from a terminal)');
  const detachKeys = o.detachKeys !== undefined ? parseDetachKeys(o.detachKeys) : undefined;
  const streams = attachStreams(o);
  const record = await createFor(engine, imageArg, command, o);
  const id = record.Id;
  if (o.detach) {
    try {
      const { monitor } = await startContainer(engine, id);
      monitor.release();
    } catch (e) {
      if (o.rm) await removeContainer(engine, id, { force: true, volumes: true });
      throw e;
    }
    process.stdout.write(`${id}\n`);
    return 0;
  }
  const session = foreground(engine, id, { stdin: !!o.interactive && (!streams || streams.stdin), tty: !!o.tty, ...(detachKeys ? { detachKeys } : {}), ...(streams ? { streams: streams.out } : {}) });
  const release = holdAttachLock(engine, id);
  emitContainer(engine, 'attach', record);
  try {
    let started;
    try {
      started = await startContainer(engine, id, { beforeStart: (m) => session.beforeStart(m), consoleSize: terminalSize() });
    } catch (e) {
      if (o.rm) await removeContainer(engine, id, { force: true, volumes: true });
      throw e;
    }
    if ((await session.done()) === 'detached') {
      // ctrl-p ctrl-q: the container goes on (its monitor does --rm when it exits), as docker's.
      started.monitor.release();
      return 0;
    }
    trace('mydocker: container exited, output drained');
    session.close(); // the terminal back to normal before anything else is printed
    // The monitor's exit file is written; its cleanup command waits for our lock.
    const code = await finishForeground(engine, id, !!o.rm, warn);
    trace('mydocker: removed');
    return code;
  } finally {
    session.close();
    release();
  }
}

/** docker's -a: which of stdin, stdout and stderr a foreground run attaches to (undefined: the default). */
function attachStreams(o: RunFlags): { stdin: boolean; out: Set<'stdout' | 'stderr'> } | undefined {
  if (!o.attach?.length) return undefined;
  if (o.detach) throw new InputError('Conflicting options: -a and -d');
  const out = new Set<'stdout' | 'stderr'>();
  let stdin = false;
  for (const a of o.attach) {
    const s = a.toLowerCase();
    if (s === 'stdin') stdin = true;
    else if (s === 'stdout' || s === 'stderr') out.add(s);
    else throw new InputError(`invalid argument ${JSON.stringify(a)} for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  }
  return { stdin, out };
}
