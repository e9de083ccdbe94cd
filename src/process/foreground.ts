// A process of ours in the foreground (`exec` without --detach): its exit status as a shell
// reports it (128+signal when killed), our terminal attached when it has a pty, and otherwise
// the signals a shell would send its foreground job forwarded to it.
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { attachTerminal, forwardSignals } from './terminal.js';

export async function waitForeground(child: ChildProcess, master: number): Promise<number> {
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
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
