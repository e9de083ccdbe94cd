// `features`: the runtime-spec features document, derived from tables.ts so that it lists
// exactly what validation accepts and the rest of the runtime implements.
//
// The spec wants the document to describe the runtime, not the host. AppArmor and SELinux
// are the exception here: we support them only by refusing labels on hosts without them,
// so "enabled" is reported from the host (a caller then knows a label will not be refused).
import type { Features } from './generated/types.js';
import { type HostFacts, realHost } from './host.js';
import {
  CAPABILITY_NAMES,
  HOOK_KINDS,
  MOUNT_OPTION_NAMES,
  NAMESPACES,
  NAMESPACE_TYPES,
  OCI_VERSION,
  OCI_VERSION_MIN,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  SECCOMP_SUPPORTED_ACTIONS,
  SECCOMP_SUPPORTED_ARCHS,
  SECCOMP_SUPPORTED_FLAGS,
} from './tables.js';

export function features(host: Pick<HostFacts, 'apparmor' | 'selinux'> = realHost): Features {
  const sorted = (xs: readonly string[]) => [...xs].sort();
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_KINDS],
    mountOptions: [...MOUNT_OPTION_NAMES],
    linux: {
      namespaces: sorted(NAMESPACE_TYPES.filter((t) => NAMESPACES[t].supported)),
      capabilities: [...CAPABILITY_NAMES],
      // The cgroup manager drives v1, v2 and hybrid hierarchies itself; no systemd driver.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: sorted(SECCOMP_SUPPORTED_ACTIONS),
        operators: sorted(SECCOMP_OPERATORS),
        archs: sorted(SECCOMP_SUPPORTED_ARCHS),
        knownFlags: Object.keys(SECCOMP_FLAGS),
        supportedFlags: [...SECCOMP_SUPPORTED_FLAGS],
      },
      apparmor: { enabled: host.apparmor },
      selinux: { enabled: host.selinux },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
  };
}
