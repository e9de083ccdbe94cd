// Node's other threads inside a container.
//
// The init and the exec helper enter the container on Node's main thread only (namespaces,
// root and cwd are per thread): the main thread unshares CLONE_FS and pivot_roots or setns'es,
// while V8's workers and libuv's pool keep the fs_struct the process started with — the
// host's root and cwd. Until we execve (when those threads die), a container process that can
// read our /proc files could walk /proc/<pid>/task/<tid>/root into the host. Non-dumpable
// keeps out all but CAP_SYS_PTRACE holders; this closes it for them too: a pool thread, which
// shares that old fs_struct with all the others, chroots into our own (the container's) root,
// /proc/self/root, and chdirs to it, so every thread's root and cwd are the container's.
//
// The pool must exist before the main thread unshares CLONE_FS (threads created later would
// share the main thread's new fs_struct), hence startThreadPool() first thing.
import { access, readdirSync, readlinkSync, statSync } from 'node:fs';
import { libcFn } from '../kernel/ffi.js';
import { RuntimeError } from '../errors.js';

/** Create libuv's pool now, sharing the process's original fs_struct. */
export function startThreadPool(): void {
  access('/', () => {});
}

/**
 * Move every thread but the main one into `chrootTo` (a path as the pool threads see it),
 * cwd at its top; done when each thread's root and cwd are the inode the main thread sees at
 * `sameAs`. Default: the main thread's own root (after it has pivoted or joined a container).
 */
export function confineOtherThreads(chrootTo = '/proc/self/root', sameAs = '/'): void {
  // Our main thread's id as this /proc numbers it (process.pid is our pid in the container's
  // namespace; before pivot_root /proc is still the host's).
  const self = readlinkSync('/proc/self');
  const root = statSync(sameAs);
  // Compare inodes, not readlink text: a path outside our root reads as "/" too.
  const confined = (link: 'root' | 'cwd') =>
    readdirSync('/proc/self/task')
      .filter((t) => t !== self)
      .every((t) => {
        try {
          const st = statSync(`/proc/self/task/${t}/${link}`);
          return st.ino === root.ino && st.dev === root.dev;
        } catch {
          return true; // the thread has exited
        }
      });
  // Two pool calls that may land on different threads (they share the fs_struct we change):
  // the second only once the kernel shows the first. Their results come back through the
  // event loop, which we never return to here, so success is read off /proc instead.
  const run = (fn: string, arg: string, link: 'root' | 'cwd') => {
    if (confined(link)) return;
    libcFn(`int ${fn}(const char *path)`).async(arg, () => {});
    // The pool thread takes tens of µs: poll every 50 µs, not every ms (1 ms waits cost the
    // init and the exec helper ~2 ms each). Still half a second before giving up.
    const sab = new Int32Array(new SharedArrayBuffer(4));
    for (const deadline = Date.now() + 500; Date.now() < deadline; ) {
      Atomics.wait(sab, 0, 0, 0.05);
      if (confined(link)) return;
    }
    throw new RuntimeError(`confine Node's threads to the container: ${fn}(${arg}) did not take effect`);
  };
  run('chroot', chrootTo, 'root');
  run('chdir', '/', 'cwd');
}
