// `exec`: run a new process in a container (runc's flags; containerd calls
// `exec --process F --detach --pid-file P [--console-socket S] <id>`, podman adds --tty).
//
// Foreground (no --detach): exit with the process's status (128+signal when killed), with
// signals forwarded and, for -t, our terminal attached. --detach: return as soon as the
// process runs, pid file written; it is reparented to our parent's subreaper.
// Our own failures exit 255, as runc's do, so that they are never mistaken for the process's
// exit status.
import { RuntimeError, UnsupportedError } from '../../errors.js';
import { execInContainer } from '../../process/exec.js';
import { waitForeground } from '../../process/foreground.js';
import { intFlag, store, warn, type Globals } from '../globals.js';

export interface ExecOptions {
  process?: string;
  consoleSocket?: string;
  cwd?: string;
  env?: string[];
  tty?: boolean;
  user?: string;
  additionalGids?: string[];
  detach?: boolean;
  pidFile?: string;
  processLabel?: string;
  apparmor?: string;
  /** commander's negation of --no-new-privs. */
  newPrivs?: boolean;
  cap?: string[];
  preserveFds?: string;
  cgroup?: string[];
  ignorePaused?: boolean;
}

const EXEC_FAILED = 255;

export default async function (id: string, command: string[], o: ExecOptions, g: Globals): Promise<number> {
  let started;
  try {
    if (o.cgroup?.length) throw new UnsupportedError(`--cgroup ${o.cgroup[0]}: running a process in a sub-cgroup is not supported`);
    started = execInContainer(store(g), {
      id,
      ...(o.process ? { processFile: o.process } : {}),
      args: command,
      flags: {
        cwd: o.cwd,
        env: o.env,
        tty: o.tty,
        user: o.user,
        additionalGids: o.additionalGids,
        apparmor: o.apparmor,
        processLabel: o.processLabel,
        noNewPrivs: o.newPrivs === false,
        cap: o.cap,
      },
      ...(o.consoleSocket ? { consoleSocket: o.consoleSocket } : {}),
      detach: o.detach ?? false,
      ...(o.pidFile ? { pidFile: o.pidFile } : {}),
      preserveFds: intFlag('--preserve-fds', o.preserveFds),
      ignorePaused: o.ignorePaused ?? false,
    });
  } catch (e) {
    if (e instanceof RuntimeError) e.exitCode = EXEC_FAILED;
    throw e;
  }
  warn(g, started.warnings);
  const { child, master } = started;
  if (o.detach) {
    // Nothing of ours may stay between the process and our parent's subreaper.
    child.unref();
    process.exit(0);
  }
  return waitForeground(child, master);
}
