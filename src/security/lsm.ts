// AppArmor profiles and SELinux labels for the container's process, applied the way runc's
// apparmor.ApplyProfile and selinux.SetExecLabel do: by asking the kernel to switch on the
// next execve (/proc/thread-self/attr/...). Thread-self: the label belongs to the thread that
// execs, Node's main thread. check.ts refuses a profile or label on a host without the LSM,
// so reaching here means the LSM is there and the kernel decides.
import { existsSync, writeFileSync } from 'node:fs';
import { wrap } from '../errors.js';

export function applyExecLabels(apparmorProfile: string | undefined, selinuxLabel: string | undefined): void {
  if (apparmorProfile) {
    // Linux 5.8+ has a per-LSM directory; older kernels share attr/exec among LSMs.
    const file = existsSync('/proc/thread-self/attr/apparmor/exec') ? '/proc/thread-self/attr/apparmor/exec' : '/proc/thread-self/attr/exec';
    try {
      writeFileSync(file, `exec ${apparmorProfile}`);
    } catch (e) {
      throw wrap(e, `process.apparmorProfile ${JSON.stringify(apparmorProfile)}`);
    }
  }
  if (selinuxLabel) {
    try {
      writeFileSync('/proc/thread-self/attr/exec', selinuxLabel);
    } catch (e) {
      throw wrap(e, `process.selinuxLabel ${JSON.stringify(selinuxLabel)}`);
    }
  }
}

/** runc's label.FormatMountLabel: the SELinux context for a filesystem mounted into the container. */
export function withMountLabel(data: string, mountLabel: string | undefined): string {
  if (!mountLabel) return data;
  const context = `context="${mountLabel}"`;
  return data ? `${data},${context}` : context;
}
