// Loading a compiled filter at the right moment — the only seccomp code on the init's (and
// exec's) path, so neither bundle carries the compiler or the syscall tables.
//
// runc's order, which we keep: without no_new_privs, installing a filter needs CAP_SYS_ADMIN,
// so it is loaded before the uid switch and the capability drop (and the filter then sees those
// syscalls: a profile must allow them, as with runc); with no_new_privs it is loaded as the very
// last step before execve, so that as few of our own syscalls as possible run under it.
import { wrap } from '../errors.js';
import { seccompSetModeFilter } from '../kernel/seccomp.js';
import type { SeccompPlan } from '../process/init-config.js';

/** Where the caller is: about to apply user/groups/capabilities, or about to execve (after no_new_privs). */
export type SeccompStage = 'before-credentials' | 'before-exec';

/**
 * Load `plan`'s filter if this is its stage (plan.early ↔ 'before-credentials'). Call it at
 * both points; it loads once. Used by the container's init and by the exec path.
 */
export function applySeccomp(plan: SeccompPlan | undefined, stage: SeccompStage): void {
  if (!plan || plan.early !== (stage === 'before-credentials')) return;
  const program = Buffer.from(plan.program, 'base64');
  try {
    seccompSetModeFilter(program, plan.flags);
  } catch (e) {
    throw wrap(e, 'linux.seccomp: loading the filter');
  }
}
