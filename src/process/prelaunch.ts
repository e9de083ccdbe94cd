// Spawning the native init before the CLI has even built its argument parser.
//
// create() can only send the init its plan once the bundle is validated, the cgroups made and
// the plan built; the init's own start-up (exec, the dynamic loader, reading the plan socket)
// overlaps that if it is spawned first. What the spawn needs is little: --preserve-fds and the
// stdio. So for `create` and `run`, main.ts calls prelaunch() first thing: a strict, small
// reading of argv, then launchInit() exactly as create() would call it. (Namespaces, the
// console socket and everything else travel in the plan, later.)
//
// It is only an optimisation, never a second source of truth: create() hands its own
// LaunchOptions to takePrelaunched(), which returns the early init only if they are the same,
// and otherwise kills and reaps it (create then launches as before). Anything unusual — an
// option we do not know — means no early init at all. An early init nobody takes (the CLI
// failed before create) exits by itself when our end of its sync socket closes.
import { trace } from '../trace.js';
import { abandon, launchInit, type LaunchOptions, type Launched } from './launch.js';

let early: { opts: LaunchOptions; launched: Launched } | undefined;

const GLOBAL_WITH_VALUE = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);
const GLOBAL_SWITCHES = new Set(['--debug', '--systemd-cgroup']);
const VERB_WITH_VALUE = new Set(['-b', '--bundle', '--pid-file', '--preserve-fds', '--console-socket']);
const VERB_SWITCHES = new Set(['--no-pivot', '--no-new-keyring', '-d', '--detach', '--keep']);

/** Bundle and --preserve-fds of a plain `create`/`run` command line; null when unsure. */
export function parseLaunchArgs(argv: string[]): { bundle: string; preserveFds: number } | null {
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=', 1)[0]!;
    if (GLOBAL_WITH_VALUE.has(name)) {
      if (!a.includes('=')) i++;
    } else if (!GLOBAL_SWITCHES.has(a)) break;
  }
  const verb = argv[i++];
  if (verb !== 'create' && verb !== 'run') return null;
  let bundle = '.';
  let preserveFds = '0';
  let ids = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) {
      ids++;
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (VERB_SWITCHES.has(a)) continue;
    if (!VERB_WITH_VALUE.has(name)) return null; // --help, "--", -bX, ...: not ours to guess
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) return null;
    if (name === '-b' || name === '--bundle') bundle = value;
    else if (name === '--preserve-fds') preserveFds = value;
  }
  if (ids !== 1 || !/^\d{1,4}$/.test(preserveFds)) return null;
  return { bundle, preserveFds: Number(preserveFds) };
}

/** For `create` and `run`: spawn the init now, for create() to take (see above). */
export function prelaunch(argv: string[] = process.argv.slice(2)): void {
  try {
    const args = parseLaunchArgs(argv);
    if (!args) return;
    const opts: LaunchOptions = { stdio: [0, 1, 2], preserveFds: args.preserveFds };
    const launched = launchInit(opts);
    // Until create() takes it, the init must not keep our event loop alive: a CLI that fails
    // before create() (say, the id exists) has to exit, which closes the init's sync socket
    // and so ends the init too.
    launched.child.unref();
    early = { opts, launched };
    trace('prelaunch: init spawned');
  } catch {
    // Whatever went wrong here, create() will meet it again and report it properly.
    early = undefined;
  }
}

function sameLaunch(a: LaunchOptions, b: LaunchOptions): boolean {
  return a.stdio.join() === b.stdio.join() && a.preserveFds === b.preserveFds && a.name === b.name;
}

/** The early init if it was launched with exactly `opts`; otherwise it is killed and reaped. */
export function takePrelaunched(opts: LaunchOptions): Launched | undefined {
  const e = early;
  early = undefined;
  if (!e) return undefined;
  if (sameLaunch(e.opts, opts)) {
    e.launched.child.ref(); // from here on it is create()'s child like any other
    return e.launched;
  }
  abandon(e.launched);
  return undefined;
}
