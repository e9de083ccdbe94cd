#!/usr/bin/env node
// mydocker-runc: runc's command line, thin. Argument shapes live here; each verb's work is a
// lazily imported module (so `state` and `kill` never load the validators or the image code).
//
// Global flags come before the verb in both `--flag value` and `--flag=value` forms, as
// containerd (go-runc) and podman pass them.
// First, so that MYDOCKER_RUNC_TRACE=1 can time the loading of everything below.
import { trace } from '../trace.js';
import { Command, Option } from 'commander';
import { UnsupportedError, UsageError } from '../errors.js';
import { defaultRoot, fail, type Globals } from './globals.js';

const program = new Command('mydocker-runc');
program
  .description('a runc-compatible OCI container runtime')
  .version(`mydocker-runc version 0.1.0\nspec: 1.2.0`, '-v, --version')
  .option('--root <dir>', 'root directory for container state (default /run/mydocker-runc; not root: $XDG_RUNTIME_DIR/mydocker-runc)', defaultRoot())
  .option('--log <file>', 'write errors and warnings to this file (default: stderr only)')
  .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
  .option('--debug', 'log debug information')
  .option('--systemd-cgroup', 'use the systemd cgroup driver')
  .option('--criu <path>', 'path to criu (accepted for compatibility)')
  .option('--rootless <value>', 'rootless mode: true, false or auto (auto: when not root): no cgroups, own-id maps only')
  .enablePositionalOptions()
  .showHelpAfterError(false)
  .configureOutput({ outputError: () => {} })
  .exitOverride();

const globals = (): Globals => program.opts() as Globals;

/** Run a verb module's default export with parsed arguments, turning any error into one line. */
function verb(load: () => Promise<{ default: (...a: any[]) => unknown }>) {
  return async (...args: unknown[]) => {
    const g = globals();
    trace('arguments parsed');
    try {
      const mod = await load();
      trace('verb modules loaded');
      const code = await mod.default(...args.slice(0, -1), g);
      if (typeof code === 'number') process.exitCode = code;
    } catch (e) {
      fail(g, e);
    }
  };
}

program
  .command('create')
  .description('create a container')
  .argument('<container-id>')
  .option('-b, --bundle <path>', 'path to the bundle directory', '.')
  .option('--pid-file <path>', 'write the init process pid to this file')
  .option('--console-socket <path>', 'unix socket that receives the pty master (process.terminal)')
  .option('--no-pivot', 'do not use pivot_root (for a rootfs on a ramdisk)')
  .option('--no-new-keyring', 'do not create a new session keyring')
  .option('--preserve-fds <n>', 'pass N additional fds (3..3+N-1) to the container', '0')
  .option('-d, --detach', 'accepted for compatibility (create always detaches)')
  .action(verb(() => import('./verbs/create.js')));

program
  .command('run')
  .description('create and start a container, wait for it, delete it')
  .argument('<container-id>')
  .option('-b, --bundle <path>', 'path to the bundle directory', '.')
  .option('--pid-file <path>', 'write the init process pid to this file')
  .option('--console-socket <path>', 'unix socket that receives the pty master (process.terminal)')
  .option('-d, --detach', 'detach from the container once it has started')
  .option('--keep', 'do not delete the container after it exits')
  .option('--no-pivot', 'do not use pivot_root')
  .option('--no-new-keyring', 'do not create a new session keyring')
  .option('--preserve-fds <n>', 'pass N additional fds to the container', '0')
  .action(verb(() => import('./verbs/run.js')));

const collect = (value: string, previous: string[]) => [...previous, value];

program
  .command('exec')
  .description('run a new process inside a container')
  .argument('<container-id>')
  .argument('[command...]', 'the command and its arguments (not with --process)')
  .option('-p, --process <file>', 'the process to run, as an OCI process.json (the flags below are then ignored)')
  .option('--console-socket <path>', 'unix socket that receives the pty master (with --tty and --detach)')
  .option('--cwd <path>', 'working directory in the container')
  .option('-e, --env <name=value>', 'add an environment variable (repeatable)', collect, [])
  .option('-t, --tty', 'allocate a pseudo-terminal')
  .option('-u, --user <uid[:gid]>', 'run as this uid (and gid)')
  .option('-g, --additional-gids <gid>', 'add a supplementary group (repeatable)', collect, [])
  .option('-d, --detach', 'return once the process runs; it is reparented to our parent')
  .option('--pid-file <path>', 'write the process pid to this file')
  .option('--process-label <label>', 'SELinux label for the process (hosts with SELinux)')
  .option('--apparmor <profile>', 'AppArmor profile for the process (hosts with AppArmor)')
  .option('--no-new-privs', 'set no_new_privs for the process')
  .option('-c, --cap <capability>', 'add a capability to the bounding, effective and permitted sets (repeatable)', collect, [])
  .option('--preserve-fds <n>', 'pass N additional fds (3..3+N-1) to the process', '0')
  .option('--cgroup <path>', 'run in a sub-cgroup of the container (not supported)', collect, [])
  .option('--ignore-paused', 'allow exec into a paused container (the process starts once it is resumed)')
  // Everything after the container id is the command: `exec <id> ls -la`.
  .passThroughOptions()
  .action(verb(() => import('./verbs/exec.js')));

program
  .command('start')
  .description('start a created container')
  .argument('<container-id>')
  .action(verb(() => import('./verbs/start.js')));

program
  .command('state')
  .description('print the OCI state of a container')
  .argument('<container-id>')
  .action(verb(() => import('./verbs/state.js')));

program
  .command('kill')
  .description('send a signal to the container init (default SIGTERM)')
  .argument('<container-id>')
  .argument('[signal]', 'signal name or number', 'SIGTERM')
  .option('-a, --all', 'send the signal to every process of the container')
  .action(verb(() => import('./verbs/kill.js')));

program
  .command('delete')
  .description('delete a container and everything it holds')
  .argument('<container-id>')
  .option('-f, --force', 'kill the container first if it is running; no error if it does not exist')
  .action(verb(() => import('./verbs/delete.js')));

program
  .command('list')
  .alias('ls')
  .description('list containers')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
  .option('-q, --quiet', 'print only the container ids')
  .action(verb(() => import('./verbs/list.js')));

program
  .command('spec')
  .description('write a default config.json into the bundle directory')
  .option('-b, --bundle <path>', 'path to the bundle directory', '.')
  .option('--rootless', 'a spec for a rootless container')
  .action(verb(() => import('./verbs/spec.js')));

program
  .command('features')
  .description('print what this runtime supports (runtime-spec features.md)')
  .action(verb(() => import('./verbs/features.js')));

program
  .command('pause')
  .description('freeze every process of a container')
  .argument('<container-id>')
  .action(verb(() => import('./verbs/pause.js')));

program
  .command('resume')
  .description('thaw a paused container')
  .argument('<container-id>')
  .action(verb(() => import('./verbs/resume.js')));

program
  .command('ps')
  .description('list the processes of a container (json: the host pids, as containerd reads them)')
  .argument('<container-id>')
  .argument('[ps-options...]', 'options for ps(1) in table format (default -ef)')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
  // Everything after the container id belongs to ps(1), as in runc (`ps <id> -o pid,comm`).
  .passThroughOptions()
  .action(verb(() => import('./verbs/ps.js')));

program
  .command('update')
  .description("change a running container's resource limits")
  .argument('<container-id>')
  .option('-r, --resources <file>', "LinuxResources JSON to apply ('-' reads stdin); other flags are then ignored")
  .option('--blkio-weight <weight>', 'block IO weight, 10 to 1000')
  .option('--cpu-period <usecs>', 'CPU CFS period')
  .option('--cpu-quota <usecs>', 'CPU CFS quota per period (-1: no limit)')
  .option('--cpu-share <shares>', 'CPU shares (relative weight)')
  .option('--cpu-shares <shares>', 'same as --cpu-share')
  .option('--cpu-rt-period <usecs>', 'CPU realtime period')
  .option('--cpu-rt-runtime <usecs>', 'CPU realtime runtime per period')
  .option('--cpuset-cpus <list>', 'CPUs to run on (e.g. 0-1,3)')
  .option('--cpuset-mems <list>', 'memory nodes to allocate from')
  .option('--memory <bytes>', 'memory limit (units k, m, g accepted; -1: unlimited)')
  .option('--memory-reservation <bytes>', 'memory soft limit')
  .option('--memory-swap <bytes>', "memory plus swap limit ('-1': unlimited swap)")
  .option('--pids-limit <n>', 'maximum number of pids (-1: unlimited)')
  .option('--kernel-memory <bytes>', 'obsolete: ignored with a warning, as in runc')
  .option('--kernel-memory-tcp <bytes>', 'obsolete: ignored with a warning, as in runc')
  .option('--l3-cache-schema <schema>', 'Intel RDT L3 cache schema (not supported)')
  .option('--mem-bw-schema <schema>', 'Intel RDT memory bandwidth schema (not supported)')
  .action(verb(() => import('./verbs/update.js')));

program
  .command('events')
  .description("print a container's stats and OOM events as JSON lines")
  .argument('<container-id>')
  .option('--interval <duration>', 'time between stats samples (Go duration)', '5s')
  .option('--stats', 'print the stats once and exit')
  .action(verb(() => import('./verbs/events.js')));

for (const name of ['checkpoint', 'restore']) {
  program
    .command(name)
    .description(`${name} a container (not supported)`)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(
      verb(async () => ({
        default: () => {
          throw new UnsupportedError(`${name} is not supported by mydocker-runc (no CRIU integration)`);
        },
      })),
    );
}

// No top-level await: the bundle is CommonJS (it loads faster than an ES module).
program.parseAsync(process.argv).catch((e: unknown) => {
  // commander's own errors (unknown option, missing argument): one line, exit 1 as runc.
  const err = e as { code?: string; exitCode?: number; message?: string };
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
    process.exitCode = 0;
  } else if (err.code?.startsWith('commander.')) {
    fail(globals(), new UsageError((err.message ?? '').replace(/^error: /, '')));
  } else {
    fail(globals(), e);
  }
});
