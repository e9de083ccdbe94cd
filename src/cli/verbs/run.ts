// `run`: create, start, and (unless --detach) wait for the container's process and delete the
// container, exiting with the process's status (128+signal when killed, as runc and shells).
// With process.terminal in the foreground, we receive the pty master on a console socket of
// our own and attach the caller's terminal to it (terminal.ts).
import { create } from '../../container/create.js';
import { remove, start } from '../../container/lifecycle.js';
import { UsageError } from '../../errors.js';
import { ConsoleListener } from '../../process/console.js';
import { attachTerminal, forwardSignals } from '../../process/terminal.js';
import { loadBundle } from '../../spec/bundle.js';
import { store, warn, type Globals } from '../globals.js';
import { createRequest, type CreateFlags } from './create.js';
import { trace } from '../../trace.js';

export default async function (id: string, o: CreateFlags & { detach?: boolean; keep?: boolean }, g: Globals): Promise<number> {
  const s = store(g);
  const req = createRequest(id, o, g);
  let listener: ConsoleListener | undefined;
  try {
    if (!o.detach) {
      // runc's rule: a console socket is for a terminal nobody attaches to here.
      if (o.consoleSocket) throw new UsageError(`--console-socket ${o.consoleSocket}: only with --detach (a foreground run attaches the terminal itself)`);
      if (loadBundle(o.bundle).config.process?.terminal) {
        listener = new ConsoleListener();
        req.consoleSocket = listener.path;
      }
    }
    const { launched, warnings } = create(s, req);
    warn(g, warnings);
    let master = -1;
    try {
      // The init sent the master before reporting ready, so it is already queued.
      if (listener) master = listener.receiveMaster();
      warn(g, start(s, id));
      trace('run: started');
    } catch (e) {
      remove(s, id, true);
      throw e;
    } finally {
      listener?.close();
    }
    if (o.detach) process.exit(0);
    // The container's process is our child (the init forks it with CLONE_PARENT).
    const exited = launched.wait();
    // Signals a shell would deliver to its foreground job go to the container's process.
    const send = (sig: NodeJS.Signals) => {
      try {
        process.kill(launched.pid, sig);
      } catch {
        /* already gone */
      }
    };
    let status: number;
    if (master >= 0) status = await attachTerminal(master, exited, send);
    else {
      const unforward = forwardSignals(send);
      try {
        status = await exited;
        trace('run: container exited');
      } finally {
        unforward();
      }
    }
    if (!o.keep) warn(g, remove(s, id, true));
    trace('run: deleted');
    // Done: exit now rather than when the event loop drains (a cgroup-warming write may still
    // be waiting out an RCU grace period in the threadpool: ~10 ms for nothing). Our output
    // is written synchronously, so nothing is lost.
    return process.exit(status);
  } finally {
    listener?.close();
  }
}
