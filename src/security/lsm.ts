// AppArmor profiles and SELinux labels for the container's process, applied the way runc's
// apparmor.ApplyProfile and selinux.SetExecLabel do: by asking the kernel to switch on the
// next execve (/proc/thread-self/attr/...). Thread-self: the label belongs to the thread that
// execs, Node's main thread. check.ts refuses a profile or label on a host without the LSM,
// so reaching here means the LSM is there and the kernel decides.

/** runc's label.FormatMountLabel: the SELinux context for a filesystem mounted into the container. */
export function withMountLabel(data: string, mountLabel: string | undefined): string {
  if (!mountLabel) return data;
  const context = `context="${mountLabel}"`;
  return data ? `${data},${context}` : context;
}
