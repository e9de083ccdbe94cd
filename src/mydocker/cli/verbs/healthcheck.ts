// The health checker's probe (never typed by users; containers/health.ts): one run of the
// container's healthcheck, its result recorded; prints the checker's next sleep in seconds, or
// nothing (exit 1) when the checker should end.
import { execInContainer } from '../../containers/exec.js';
import { runProbe, sleepArg } from '../../containers/health.js';
import { engineFor, type Globals } from '../globals.js';

export default async function (id: string, _o: unknown, g: Globals): Promise<number> {
  const engine = engineFor(g);
  const next = await runProbe(engine, id, (command, stdio) => {
    const started = execInContainer(engine, id, { command, stdio });
    const exited = started.wait();
    return {
      wait: () => exited,
      kill: () => void started.child.kill('SIGKILL'),
    };
  });
  if (next === null) return 1;
  process.stdout.write(`${sleepArg(next)}\n`);
  return 0;
}
