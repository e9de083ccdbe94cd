// Keeping the kernel's cgroup migration lock warm while the init boots, so that the init's
// join of the container's cgroup (its cgroup.procs writes, just before pivot_root) is quick.
//
// Every write to a cgroup.procs file takes cgroup_threadgroup_rwsem for writing, a per-CPU
// rwsem whose writer first waits for an RCU grace period — unless a writer came through
// shortly before (rcu_sync stays in its "writer active" state for about one more grace
// period after the last writer leaves). Measured on this kernel: the first migration after a
// quiet spell takes 6-15 ms, one within ~10 ms of the previous one 0.1-0.3 ms; runc pays
// the full wait on every create (it is most of runc's 21 ms `run`).
//
// The runtime has nothing to do while the init boots, so it re-enters the lock every few
// milliseconds by "moving" itself into the cgroup it is already in — a no-op migration,
// whatever the layout — from libuv's threadpool (one write each), never blocking the main
// thread that must answer the init. The grace period then passes during the init's boot and
// the init's own join finds the lock warm. Anything unusual (no cgroup filesystem, EACCES,
// EBUSY) just stops the warming: it only ever saves time.
import { closeSync, openSync, readFileSync, write } from 'node:fs';
import { detectLayout, parseProcCgroup } from '../cgroups/layout.js';
import { KernelError } from '../kernel/ffi.js';
import { POLLIN, pollOne } from '../kernel/process.js';

let procsFd: number | null | undefined;

/** Our own cgroup's cgroup.procs in one hierarchy (cgroup2 when there is one), opened once. */
function ownProcs(): number | null {
  if (procsFd !== undefined) return procsFd;
  procsFd = null;
  try {
    const layout = detectLayout();
    const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
    const v1 = layout.v1[0];
    const [mount, path] =
      layout.unified && own.has('') ? [layout.unified, own.get('')] : v1 ? [v1.mount, own.get(v1.controllers[0]!)] : [];
    if (mount && path !== undefined) procsFd = openSync(`${mount}${path === '/' ? '' : path}/cgroup.procs`, 'w');
  } catch {
    /* no cgroup we can write to: nothing to warm */
  }
  return procsFd;
}

/** One no-op migration of ourselves, on the threadpool (the main thread never waits for it). */
export function warmCgroupLock(): void {
  const fd = ownProcs();
  if (fd === null) return;
  write(fd, '0', (err) => {
    if (err && procsFd === fd) {
      procsFd = null;
      closeSync(fd);
    }
  });
}

/** Block until `fd` is readable (or hung up), warming the lock every 3 ms meanwhile. */
export function waitReadableWarm(fd: number): void {
  for (;;) {
    let revents: number;
    try {
      revents = pollOne(fd, POLLIN, 3);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'EINTR') continue;
      throw e;
    }
    if (revents) return;
    warmCgroupLock();
  }
}
