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
  /** May be given several times (values collected in order). */
  repeat?: boolean;
  /** One line for --help (docker's wording where it has one). */
  help?: string;
}

/** The options of `run` and `create` (create ignores -d/--rm … as docker does for some). */
export const RUN_FLAGS: FlagSpec[] = [
  { long: 'detach', short: 'd', value: false, help: 'run in the background and print the container ID' },
  { long: 'attach', short: 'a', value: true, repeat: true, help: 'attach to STDIN, STDOUT or STDERR (default: the output streams)' },
  { long: 'interactive', short: 'i', value: false, help: 'keep STDIN open even if not attached' },
  { long: 'tty', short: 't', value: false, help: 'allocate a pseudo-TTY' },
  { long: 'rm', value: false, help: 'remove the container when it exits' },
  { long: 'init', value: false, help: 'run an init inside the container that forwards signals and reaps processes' },
  { long: 'name', value: true, help: 'assign a name to the container' },
  { long: 'env', short: 'e', value: true, repeat: true, help: 'set an environment variable (K=V, or K to pass ours)' },
  { long: 'env-file', value: true, repeat: true, help: 'read environment variables from a file' },
  { long: 'volume', short: 'v', value: true, repeat: true, help: 'bind mount a host path or a volume (/host:/ctr[:ro], name:/ctr, /ctr)' },
  { long: 'mount', value: true, repeat: true, help: 'attach a filesystem mount (type=bind|volume|tmpfs,source=…,target=…[,readonly])' },
  { long: 'tmpfs', value: true, repeat: true, help: 'mount a tmpfs directory (/path[:options])' },
  { long: 'volumes-from', value: true, repeat: true, help: "mount the volumes of another container (name[:ro|rw])" },
  { long: 'label', short: 'l', value: true, repeat: true, help: 'set metadata on the container (K=V)' },
  { long: 'label-file', value: true, repeat: true, help: 'read labels from a file of K=V lines' },
  { long: 'memory', short: 'm', value: true, aliases: ['mem'], help: 'memory limit (e.g. 512m, 1g)' },
  { long: 'memory-swap', value: true, help: 'memory plus swap limit (-1: unlimited swap)' },
  { long: 'memory-reservation', value: true, help: 'memory soft limit' },
  { long: 'oom-kill-disable', value: false, help: 'disable the OOM killer' },
  { long: 'oom-score-adj', value: true, help: "tune the host's OOM preferences (-1000 to 1000)" },
  { long: 'cpus', value: true, help: 'number of CPUs (e.g. 0.5)' },
  { long: 'cpu-period', value: true, help: 'limit the CPU CFS period (µs)' },
  { long: 'cpu-quota', value: true, help: 'limit the CPU CFS quota (µs)' },
  { long: 'cpu-shares', short: 'c', value: true, aliases: ['cpushare', 'cpu-share'], help: 'CPU shares (relative weight)' },
  { long: 'cpuset-cpus', value: true, aliases: ['cpuset'], help: 'CPUs in which to allow execution (0-3, 0,1)' },
  { long: 'cpuset-mems', value: true, help: 'memory nodes in which to allow execution (0-3, 0,1)' },
  { long: 'pids-limit', value: true, help: 'tune the container pids limit (-1 for unlimited)' },
  { long: 'shm-size', value: true, help: 'size of /dev/shm' },
  { long: 'hostname', short: 'h', value: true, help: 'container host name' },
  { long: 'workdir', short: 'w', value: true, help: 'working directory inside the container' },
  { long: 'user', short: 'u', value: true, help: 'username or UID (format: <name|uid>[:<group|gid>])' },
  { long: 'group-add', value: true, repeat: true, help: 'add additional groups to join' },
  { long: 'entrypoint', value: true, help: 'overwrite the default ENTRYPOINT of the image' },
  { long: 'read-only', value: false, help: "mount the container's root filesystem as read only" },
  { long: 'stop-signal', value: true, help: 'signal to stop the container' },
  { long: 'stop-timeout', value: true, help: 'timeout (in seconds) to stop a container' },
  { long: 'network', value: true, aliases: ['net'], help: 'connect a container to a network (bridge, host, none or a name)' },
  { long: 'publish', short: 'p', value: true, repeat: true, help: "publish a container's port to the host ([ip:]hostPort:containerPort[/udp])" },
  { long: 'publish-all', short: 'P', value: false, help: 'publish all exposed ports to random ports' },
  { long: 'expose', value: true, repeat: true, help: 'expose a port or a range of ports' },
  { long: 'ip', value: true, help: 'IPv4 address (e.g. 172.30.100.104)' },
  { long: 'network-alias', value: true, repeat: true, help: 'add a network-scoped alias for the container' },
  { long: 'add-host', value: true, repeat: true, help: 'add a custom host-to-IP mapping (host:ip)' },
  { long: 'detach-keys', value: true, help: 'override the key sequence for detaching a container' },
  { long: 'dns', value: true, repeat: true, help: 'set custom DNS servers' },
  { long: 'dns-search', value: true, repeat: true, help: 'set custom DNS search domains' },
  { long: 'dns-option', value: true, aliases: ['dns-opt'], repeat: true, help: 'set DNS options' },
  { long: 'pid', value: true, help: 'PID namespace to use (host)' },
  { long: 'ipc', value: true, help: 'IPC mode to use (host, private, shareable, none)' },
  { long: 'uts', value: true, help: 'UTS namespace to use (host)' },
  { long: 'sysctl', value: true, repeat: true, help: 'sysctl options (a namespaced K=V)' },
  { long: 'privileged', value: false, help: 'give extended privileges to this container' },
  { long: 'cap-add', value: true, repeat: true, help: 'add Linux capabilities' },
  { long: 'cap-drop', value: true, repeat: true, help: 'drop Linux capabilities' },
  { long: 'security-opt', value: true, repeat: true, help: 'security options (seccomp=…, no-new-privileges)' },
  { long: 'device', value: true, repeat: true, help: 'add a host device to the container' },
  { long: 'ulimit', value: true, repeat: true, help: 'ulimit options (name=soft[:hard])' },
  { long: 'restart', value: true, help: 'restart policy (no, always, unless-stopped, on-failure[:N])' },
  { long: 'log-driver', value: true, help: 'logging driver (json-file, local, k8s-file: the log file; none: no log)' },
  { long: 'log-opt', value: true, repeat: true, help: 'log driver options (max-size=10m, max-file=1)' },
  { long: 'platform', value: true, help: "the image's platform (os[/arch[/variant]]); only the host's runs here" },
  { long: 'cidfile', value: true, help: 'write the container ID to the file' },
  { long: 'pull', value: true, help: 'pull image before running ("always", "missing", "never")' },
  { long: 'health-cmd', value: true, help: 'command to run to check health (run by /bin/sh -c in the container)' },
  { long: 'health-interval', value: true, help: 'time between running the check (ms|s|m|h) (default 30s)' },
  { long: 'health-timeout', value: true, help: 'maximum time to allow one check to run (ms|s|m|h) (default 30s)' },
  { long: 'health-retries', value: true, help: 'consecutive failures needed to report unhealthy (default 3)' },
  { long: 'health-start-period', value: true, help: 'start period for the container to initialize before counting retries (ms|s|m|h) (default 0s)' },
  { long: 'health-start-interval', value: true, help: 'time between running the check during the start period (ms|s|m|h) (default 5s)' },
  { long: 'no-healthcheck', value: false, help: 'disable any container-specified HEALTHCHECK' },
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
