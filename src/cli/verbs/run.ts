// `run`: create, start, and (unless --detach) wait for the container's process and delete the
// container, exiting with the process's status (128+signal when killed, as runc and shells).
import { constants } from 'node:os';
import { create } from '../../container/create.js';
import { remove, start } from '../../container/lifecycle.js';
import { store, warn, type Globals } from '../globals.js';
import { createRequest, type CreateFlags } from './create.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

export default async function (id: string, o: CreateFlags & { detach?: boolean; keep?: boolean }, g: Globals): Promise<number> {
  const s = store(g);
  const { launched, warnings } = create(s, createRequest(id, o, g));
  warn(g, warnings);
  const exited = new Promise<number>((resolve) => {
    launched.child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
  try {
    warn(g, start(s, id));
  } catch (e) {
    remove(s, id, true);
    throw e;
  }
  if (o.detach) {
    launched.child.unref();
    process.exit(0);
  }
  // Signals a shell would deliver to its foreground job go to the container's process.
  for (const sig of FORWARDED) {
    process.on(sig, () => {
      try {
        process.kill(launched.pid, sig);
      } catch {
        /* already gone */
      }
    });
  }
  const status = await exited;
  if (!o.keep) warn(g, remove(s, id, true));
  return status;
}
