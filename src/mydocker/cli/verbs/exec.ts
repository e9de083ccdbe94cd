// `exec [-i] [-t] [-d] [-e] [-u] [-w] CONTAINER COMMAND…`: the process's exit status is ours.
import { waitForeground } from '../../../container/runtime.js';
import { execInContainer } from '../../containers/exec.js';
import { execFailureCode } from '../../containers/monitor.js';
import { CommandError, InputError } from '../../errors.js';
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
  if (o.detach) {
    child.unref();
    return 0;
  }
  return waitForeground(child, master);
}
