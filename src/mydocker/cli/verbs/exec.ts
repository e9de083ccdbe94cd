// `exec [-i] [-t] [-d] [-e] [-u] [-w] CONTAINER COMMAND…`: the process's exit status is ours.
import { waitForeground } from '../../../container/runtime.js';
import { execInContainer } from '../../containers/exec.js';
import { execFailureCode } from '../../containers/monitor.js';
import { CommandError, InputError } from '../../errors.js';
import { emitContainer } from '../../events/journal.js';
import { randomBytes } from 'node:crypto';
import { engineFor, type Globals } from '../globals.js';

interface ExecFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  envFile?: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
}

export default async function (ref: string, command: string[], o: ExecFlags, g: Globals): Promise<number> {
  const engine = engineFor(g);
  const id = engine.containers.resolve(ref);
  if (o.interactive && o.tty && !o.detach && !process.stdin.isTTY) throw new InputError('the input device is not a TTY (drop -t, or run from a terminal)');
  // docker's exec events: exec_create and exec_start name the command, exec_die its exit code.
  const rec = engine.containers.read(id);
  const execID = randomBytes(32).toString('hex');
  const cmd = command.join(' ').slice(0, 1024);
  let started;
  try {
    started = execInContainer(engine, id, { command, ...o });
  } catch (e) {
    const msg = (e as Error).message;
    const code = execFailureCode(msg);
    if (code) throw new CommandError(msg.replace(/^.*?mydocker-runc:\s*/, ''), code);
    throw e;
  }
  const { child, master } = started;
  emitContainer(engine, `exec_create: ${cmd}`, rec, { execID });
  emitContainer(engine, `exec_start: ${cmd}`, rec, { execID });
  if (o.detach) {
    child.unref();
    return 0;
  }
  const code = await waitForeground(child, master);
  emitContainer(engine, 'exec_die', rec, { execID, exitCode: String(code) });
  return code;
}
