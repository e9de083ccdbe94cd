// `build [-t NAME[:TAG]]… [-f FILE] [--build-arg K=V]… [--no-cache] [-q] [--label K=V]…
// [--target STAGE] [--network MODE] CONTEXT`: docker's classic builder (../../build/builder.ts).
// Progress and the RUNs' output go to stdout as docker's; -q prints only the image id. A
// failing RUN is docker's line and status 1; SIGINT/SIGTERM stop the build, and what it was
// running is killed and removed before we exit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, BuildInterrupted, RunFailedError } from '../../build/builder.js';
import { InputError } from '../../errors.js';
import { engineFor, type Globals } from '../globals.js';

interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  cache?: boolean;
  quiet?: boolean;
  label?: string[];
  target?: string;
  network?: string;
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    throw new InputError(`read the Dockerfile from stdin: ${(e as Error).message}`);
  }
}

export default async function (contextArg: string, o: BuildFlags, g: Globals): Promise<number> {
  const engine = engineFor(g);
  // `build -`: the Dockerfile on stdin and no context (docker's "-" form for a Dockerfile).
  const context = contextArg === '-' ? null : contextArg;
  let dockerfile: string;
  if (o.file === '-' || context === null) {
    if (o.file !== undefined && o.file !== '-' && context === null) throw new InputError('build -: the Dockerfile comes from stdin; -f cannot name another');
    dockerfile = readStdin();
  } else {
    const path = o.file ?? join(context, 'Dockerfile');
    try {
      dockerfile = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: ${code === 'ENOENT' ? `lstat ${path}: no such file or directory` : (e as Error).message}`);
    }
  }
  const buildArgs = new Map<string, string>();
  for (const a of o.buildArg ?? []) {
    const i = a.indexOf('=');
    // K alone: our own environment's K, when set (docker's rule); else it stays undeclared.
    if (i < 0) {
      if (process.env[a] !== undefined) buildArgs.set(a, process.env[a]!);
    } else buildArgs.set(a.slice(0, i), a.slice(i + 1));
  }
  const labels: [string, string][] = (o.label ?? []).map((l) => {
    const i = l.indexOf('=');
    return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)];
  });
  const network = o.network ?? 'bridge';
  if (!/^(none|host|bridge|default|[a-zA-Z0-9][a-zA-Z0-9_.-]*)$/.test(network)) throw new InputError(`--network ${network}: invalid network mode (none, host, bridge or a network name)`);

  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => ac.abort(sig);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const quiet = !!o.quiet;
  try {
    const r = await build(engine, {
      context,
      dockerfile,
      tags: o.tag ?? [],
      buildArgs,
      noCache: o.cache === false,
      labels,
      ...(o.target !== undefined ? { target: o.target } : {}),
      network: network === 'default' ? 'bridge' : network,
      ...(quiet ? {} : { progress: (t: string) => process.stdout.write(t), runOutput: (d: Buffer) => process.stdout.write(d) }),
      signal: ac.signal,
    });
    if (quiet) process.stdout.write(`${r.id}\n`);
    return 0;
  } catch (e) {
    // docker's own lines for these two, without our "mydocker:" prefix.
    if (e instanceof RunFailedError || e instanceof BuildInterrupted) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
