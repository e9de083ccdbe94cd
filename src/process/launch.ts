// Spawning the init: the namespace recipe on the runtime's side.
//
// Node must never fork itself (the child would return into V8), so the init is a fresh
// `node dist/init.js` from child_process.spawn. What the child must be born with is set on
// our main thread just before the spawn and undone right after:
//   - a new (or joined) PID namespace: unshare/setns(CLONE_NEWPID) only moves where the next
//     child is born, so the init is PID 1 there and we stay where we are;
//   - a throwaway "launch" mount namespace in which the node binary is a read-only bind
//     mount: the init's /proc/<pid>/exe then names a read-only mount, so even a container
//     process that grabs it can never open the host's node for writing (CVE-2019-5736). The
//     init returns to the host's mount namespace (fd passed along) before making its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '../errors.js';
import { socketpair, SOCK_CLOEXEC, SOCK_SEQPACKET } from '../kernel/files.js';
import { mount, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SLAVE, MS_NOSUID, MS_NODEV } from '../kernel/mount.js';
import { CLONE_NEWNS, CLONE_NEWPID, setns, unshare } from '../kernel/ns.js';

export interface LaunchOptions {
  /** New PID namespace ({}), join one ({path}), or stay in ours (null). */
  pidNamespace: { path?: string } | null;
  /** The container's stdio: fds 0, 1, 2 of the init (normally ours, as containerd wires them). */
  stdio: [number, number, number];
  /** fds 3 .. 3+n-1 of ours pass to the init at the same numbers. */
  preserveFds: number;
}

export interface Launched {
  child: ChildProcess;
  pid: number;
  /** Our end of the sync socket. */
  sync: number;
}

let initScript: string | undefined;

/** dist/init.js, found from wherever this module was loaded (the bundle, or build/ in tests). */
export function initScriptPath(): string {
  if (initScript) return initScript;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [join(dir, 'init.js'), join(dir, 'dist', 'init.js')]) {
      if (existsSync(candidate) && !candidate.includes('/build/')) return (initScript = candidate);
    }
    dir = dirname(dir);
  }
  throw new RuntimeError('cannot find dist/init.js next to the runtime (run `make build`)');
}

export function launchInit(opts: LaunchOptions): Launched {
  const node = realpathSync(process.execPath);
  const script = initScriptPath();
  const [ours, theirs] = socketpair(SOCK_SEQPACKET | SOCK_CLOEXEC);
  const hostMnt = openSync('/proc/thread-self/ns/mnt', 'r');
  const ownPid = openSync('/proc/thread-self/ns/pid', 'r');
  let child: ChildProcess | undefined;
  try {
    // The launch mount namespace (unshare(CLONE_NEWNS) also gives this thread its own fs_struct).
    unshare(CLONE_NEWNS, 'launch mount namespace');
    try {
      mount(null, '/', null, MS_REC | MS_SLAVE);
      mount(node, node, null, MS_BIND);
      mount(null, node, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV);
      if (opts.pidNamespace?.path) {
        const fd = openSync(opts.pidNamespace.path, 'r');
        try {
          setns(fd, CLONE_NEWPID, `pid namespace ${opts.pidNamespace.path}`);
        } finally {
          closeSync(fd);
        }
      } else if (opts.pidNamespace) unshare(CLONE_NEWPID, 'pid namespace');

      const preserved = Array.from({ length: opts.preserveFds }, (_, i) => 3 + i);
      const syncFd = 3 + opts.preserveFds;
      child = spawn(node, [script, String(syncFd), String(syncFd + 1)], {
        stdio: [...opts.stdio, ...preserved, theirs, hostMnt],
        detached: true, // setsid: the init leads its own session, as runc's does
        env: {},
        argv0: 'mydocker-runc-init',
      });
    } finally {
      if (opts.pidNamespace) setns(ownPid, CLONE_NEWPID, 'back to the runtime pid namespace');
      setns(hostMnt, CLONE_NEWNS, 'back to the host mount namespace');
    }
  } catch (e) {
    closeSync(ours);
    throw e;
  } finally {
    closeSync(theirs);
    closeSync(hostMnt);
    closeSync(ownPid);
  }
  if (child.pid === undefined) {
    closeSync(ours);
    throw new RuntimeError(`spawn the container init (${node}): failed`);
  }
  return { child, pid: child.pid, sync: ours };
}
