import { create } from '../../container/create.js';
import { intFlag, rootless, store, warn, type Globals } from '../globals.js';

export interface CreateFlags {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  pivot?: boolean;
  newKeyring?: boolean;
  preserveFds?: string;
}

export function createRequest(id: string, o: CreateFlags, g: Globals) {
  return {
    id,
    bundle: o.bundle,
    pidFile: o.pidFile,
    consoleSocket: o.consoleSocket,
    noPivot: o.pivot === false,
    preserveFds: intFlag('--preserve-fds', o.preserveFds),
    systemdCgroup: g.systemdCgroup ?? false,
    rootless: rootless(g),
  };
}

export default function (id: string, o: CreateFlags, g: Globals): number {
  const { warnings } = create(store(g), createRequest(id, o, g));
  warn(g, warnings);
  // The init must outlive us and be reparented to our parent's subreaper (containerd's shim):
  // exit now, without waiting for anything that could hold it.
  process.exit(0);
}
