// A process of ours in the foreground (`exec` without --detach): its exit status as a shell
// reports it (128+signal when killed), our terminal attached when it has a pty, and otherwise
// the signals a shell would send its foreground job forwarded to it.
import type { ProcessHandle } from './launch.js';
import { attachTerminal, forwardSignals } from './terminal.js';

export async function waitForeground(child: ProcessHandle, master: number): Promise<number> {
  const exited = child.wait();
  const send = (sig: NodeJS.Signals) => {
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  if (master >= 0) return attachTerminal(master, exited, send);
  const unforward = forwardSignals(send);
  try {
    return await exited;
  } finally {
    unforward();
  }
}
