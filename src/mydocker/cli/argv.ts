// docker's command line has a shape commander does not know on its own: everything after the
// image is the container's command, untouched (`run busybox find / -name x`), and the book
// "Write your own Docker" spells some flags its own way (`-ti`, `-cpushare 512`, `-cpuset 1`,
// `-mem 100m`, `-net br0`, `-name x`: single-dash long flags). This module rewrites only the
// tokens BEFORE the image, using one table of run's options, into what commander parses.

export interface FlagSpec {
  long: string;
  short?: string;
  /** Takes a value (the next token, or `--flag=value`). */
  value: boolean;
  /** Other spellings accepted with one or two dashes (the book's). */
  aliases?: string[];
}

/** The options of `run` and `create` (create ignores -d/--rm … as docker does for some). */
export const RUN_FLAGS: FlagSpec[] = [
  { long: 'detach', short: 'd', value: false },
  { long: 'interactive', short: 'i', value: false },
  { long: 'tty', short: 't', value: false },
  { long: 'rm', value: false },
  { long: 'name', value: true },
  { long: 'env', short: 'e', value: true },
  { long: 'env-file', value: true },
  { long: 'volume', short: 'v', value: true },
  { long: 'tmpfs', value: true },
  { long: 'label', short: 'l', value: true },
  { long: 'memory', short: 'm', value: true, aliases: ['mem'] },
  { long: 'memory-swap', value: true },
  { long: 'cpus', value: true },
  { long: 'cpu-shares', short: 'c', value: true, aliases: ['cpushare', 'cpu-share'] },
  { long: 'cpuset-cpus', value: true, aliases: ['cpuset'] },
  { long: 'pids-limit', value: true },
  { long: 'shm-size', value: true },
  { long: 'hostname', short: 'h', value: true },
  { long: 'workdir', short: 'w', value: true },
  { long: 'user', short: 'u', value: true },
  { long: 'entrypoint', value: true },
  { long: 'read-only', value: false },
  { long: 'stop-signal', value: true },
  { long: 'stop-timeout', value: true },
  { long: 'network', value: true, aliases: ['net'] },
  { long: 'publish', short: 'p', value: true },
  { long: 'publish-all', short: 'P', value: false },
  { long: 'expose', value: true },
  { long: 'ip', value: true },
  { long: 'network-alias', value: true },
  { long: 'add-host', value: true },
  { long: 'detach-keys', value: true },
  { long: 'dns', value: true },
  { long: 'dns-search', value: true },
  { long: 'dns-option', value: true, aliases: ['dns-opt'] },
  { long: 'privileged', value: false },
  { long: 'cap-add', value: true },
  { long: 'cap-drop', value: true },
  { long: 'security-opt', value: true },
  { long: 'device', value: true },
  { long: 'ulimit', value: true },
  { long: 'restart', value: true },
];

export const EXEC_FLAGS: FlagSpec[] = [
  { long: 'detach', short: 'd', value: false },
  { long: 'interactive', short: 'i', value: false },
  { long: 'tty', short: 't', value: false },
  { long: 'env', short: 'e', value: true },
  { long: 'env-file', value: true },
  { long: 'user', short: 'u', value: true },
  { long: 'workdir', short: 'w', value: true },
  { long: 'privileged', value: false },
];

/**
 * Rewrite argv[from..] (the tokens after the verb) up to the first positional: single-dash
 * long flags and the book's aliases become `--long`; everything from the positional on is
 * left alone. Returns a new array.
 */
export function normalizeArgs(argv: string[], from: number, flags: FlagSpec[]): string[] {
  const byName = new Map<string, FlagSpec>();
  for (const f of flags) {
    byName.set(f.long, f);
    for (const a of f.aliases ?? []) byName.set(a, f);
  }
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const out = argv.slice(0, from);
  let i = from;
  for (; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === '--') break;
    if (!t.startsWith('-') || t === '-') break; // the first positional: the image (or the container)
    if (t.startsWith('--')) {
      const [name, value] = splitEq(t.slice(2));
      const f = byName.get(name);
      const long = f ? `--${f.long}` : `--${name}`;
      out.push(value === undefined ? long : `${long}=${value}`);
      if (f?.value && value === undefined && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    const body = t.slice(1);
    const [name, value] = splitEq(body);
    const long = name.length > 1 ? byName.get(name) : undefined;
    // A single-dash word that is exactly a long flag's name or alias (the book's `-cpushare`,
    // `-cpuset`, `-mem`, docker's old `-name`, `-rm`) wins over reading it as short flags
    // (`-cpuset` is not `-c puset`); no such word is made of short flags only (`-ti`, `-dit`).
    if (long) {
      out.push(value === undefined ? `--${long.long}` : `--${long.long}=${value}`);
      if (long.value && value === undefined && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    out.push(t);
    // A cluster of short flags: if one takes a value, the rest of the token (or the next one) is it.
    for (let k = 0; k < body.length; k++) {
      const f = byShort.get(body[k]!);
      if (f?.value) {
        if (k === body.length - 1 && i + 1 < argv.length) out.push(argv[++i]!);
        break;
      }
    }
  }
  return [...out, ...argv.slice(i)];
}

function splitEq(s: string): [string, string | undefined] {
  const eq = s.indexOf('=');
  return eq < 0 ? [s, undefined] : [s.slice(0, eq), s.slice(eq + 1)];
}
