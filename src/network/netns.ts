// Network namespaces from Node: a netlink socket inside a container's netns.
//
// setns(2) changes only the calling thread's namespace, and our syscalls run on the main
// thread (koffi calls are synchronous), so: enter the netns, open a netlink socket (it belongs
// to that netns for good), and come straight back. Nothing else runs in between.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { CLONE_NEWNET, setns } from '../kernel/ns.js';
import { Rtnl } from './rtnetlink.js';
import { CniError, ErrCode } from './cni/types.js';
import { Netlink } from '../kernel/netlink.js';

/** Open a netns file (CNI_NETNS) read-only; ErrCode.UnknownContainer when it is not there. */
export function openNetns(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CniError(ErrCode.UnknownContainer, `CNI_NETNS ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such network namespace' : (e as Error).message}`);
  }
  // Configuring the host's own namespace as a container would move the host's routes.
  const own = fstatSync(fd);
  const self = fstatSync(openSelf());
  if (own.ino === self.ino && own.dev === self.dev) {
    closeSync(fd);
    throw new CniError(ErrCode.InvalidEnv, `CNI_NETNS ${path}: is the host's own network namespace (the container needs a network namespace of its own)`);
  }
  return fd;
}

let selfFd: number | undefined;
function openSelf(): number {
  return (selfFd ??= openSync('/proc/thread-self/ns/net', 'r'));
}

/** An rtnetlink socket in the netns `nsFd` (the caller stays in its own). */
export function rtnlIn(nsFd: number, what: string): Rtnl {
  const home = openSelf();
  try {
    setns(nsFd, CLONE_NEWNET, what);
  } catch (e) {
    throw new CniError(ErrCode.UnknownContainer, `${what}: not a network namespace (${(e as Error).message})`);
  }
  try {
    return new Rtnl(Netlink.open());
  } finally {
    setns(home, CLONE_NEWNET, 'back to our own network namespace');
  }
}
