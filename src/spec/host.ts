// What the spec layer needs to know about the host it runs on: which LSMs are enabled and
// what namespace files are. Kept behind an interface so that check.ts and features.ts are
// unit-tested with made-up hosts, without root.
import { readlinkSync, statSync } from 'node:fs';

/** What the checks need to know about the host; tests pass their own. */
export interface HostFacts {
  apparmor: boolean;
  selinux: boolean;
  /** Whether a path exists (following symlinks) in the runtime's mount namespace. */
  exists(path: string): boolean;
  /**
   * The namespace type a namespace file belongs to, when it can be told cheaply: a
   * /proc/<pid>/ns/* link reads "net:[4026531840]". Files bind-mounted elsewhere (e.g.
   * /run/netns/x) are not links and give undefined; telling their type needs
   * ioctl(NS_GET_NSTYPE), which joining them with setns(fd, flag) does anyway.
   */
  namespaceFileType(path: string): string | undefined;
  /** Whether `path` is the runtime's own namespace of that /proc/self/ns file name. */
  isOwnNamespace(path: string, procFile: string): boolean;
}

/** The real host, read lazily from /sys and /proc. */
export const realHost: HostFacts = {
  // securityfs shows an LSM's directory only when it is enabled (as runc and libapparmor test).
  get apparmor() {
    return exists('/sys/kernel/security/apparmor');
  },
  get selinux() {
    return exists('/sys/fs/selinux/enforce');
  },
  exists,
  namespaceFileType(path) {
    try {
      return /^(\w+):\[\d+\]$/.exec(readlinkSync(path))?.[1];
    } catch {
      return undefined;
    }
  },
  isOwnNamespace(path, procFile) {
    try {
      const a = statSync(path);
      const b = statSync(`/proc/self/ns/${procFile}`);
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  },
};

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
