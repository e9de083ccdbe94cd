#!/usr/bin/env node
// First, so that MYDOCKER_RUNC_TRACE can time the loading of everything below.
import { trace } from '../../trace.js';
// mydocker: docker's command line over the engine (../engine.ts). Argument shapes only; each
// verb's work is a lazily imported module. Errors are one line on stderr and docker's exit
// codes: 125 for mydocker's own failures (a flag, an image, a conflict), 126/127 when the
// container's command cannot be run, otherwise the container's own status.
import { Command, CommanderError, Option } from 'commander';
import { errorLine } from '../errors.js';
import { CommandError } from '../errors.js';
import { EXEC_FLAGS, normalizeArgs, RUN_FLAGS } from './argv.js';
import type { Globals } from './globals.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function fail(e: unknown, g?: Globals): void {
  if ((g?.debug || process.env.MYDOCKER_DEBUG) && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.stderr.write(`mydocker: ${errorLine(e)}\n`);
  process.exitCode = e instanceof CommandError ? e.exitCode : 125;
}

function verb(load: () => Promise<{ default: (...a: any[]) => unknown }>) {
  return async (...args: unknown[]) => {
    const g = program.opts() as Globals;
    try {
      const mod = await load();
      const code = await mod.default(...args.slice(0, -1), g);
      if (typeof code === 'number') process.exitCode = code;
    } catch (e) {
      fail(e, g);
    }
  };
}

const program = new Command('mydocker');
program
  .description('a small docker: containers from images on overlayfs, run by mydocker-runc')
  .version('mydocker version 0.1.0', '-v, --version')
  .option('--root <dir>', 'where everything is kept (default /var/lib/mydocker and /run/mydocker)', process.env.MYDOCKER_ROOT)
  .option('-D, --debug', 'print stack traces of errors')
  .enablePositionalOptions()
  .showHelpAfterError(false)
  .configureOutput({ outputError: () => {} })
  .exitOverride();

function addRunOptions(cmd: Command, create = false): Command {
  for (const f of RUN_FLAGS) {
    if (create && (f.long === 'detach' || f.long === 'detach-keys')) continue;
    const flags = `${f.short ? `-${f.short}, ` : ''}--${f.long}${f.value ? ' <value>' : ''}`;
    const opt = new Option(flags, f.help);
    if (f.repeat) opt.argParser(collect as (v: string, p: unknown) => unknown);
    cmd.addOption(opt);
  }
  return cmd;
}

addRunOptions(
  program
    .command('run')
    .description('run a command in a new container')
    .argument('<image>')
    .argument('[command...]')
    .helpOption('--help')
    .passThroughOptions(),
).action(verb(() => import('./verbs/run.js')));

addRunOptions(
  program
    .command('create')
    .description('create a new container')
    .argument('<image>')
    .argument('[command...]')
    .helpOption('--help')
    .passThroughOptions(),
  true,
).action(verb(() => import('./verbs/create.js')));

program
  .command('start')
  .description('start one or more stopped containers')
  .argument('<container...>')
  .option('-a, --attach', "attach the container's output and forward signals")
  .option('-i, --interactive', "attach the container's stdin")
  .option('--detach-keys <keys>', 'the key sequence that detaches (default ctrl-p,ctrl-q)')
  .action(verb(() => import('./verbs/start.js')));

program
  .command('attach')
  .description("attach to a running container's output (and its input, when it has one open)")
  .argument('<container>')
  .option('--no-stdin', 'do not attach stdin')
  .option('--sig-proxy <bool>', 'forward the signals we get to the container (without a terminal)', 'true')
  .option('--detach-keys <keys>', 'the key sequence that detaches (default ctrl-p,ctrl-q)')
  .action(verb(() => import('./verbs/attach.js')));

program
  .command('stop')
  .description('stop one or more running containers (stop signal, then SIGKILL after the timeout)')
  .argument('<container...>')
  .option('-t, --time <seconds>', 'seconds to wait before killing')
  .option('-s, --signal <signal>', 'signal to send (default: the container\'s stop signal)')
  .action(verb(() => import('./verbs/stop.js')));

program
  .command('restart')
  .description('restart one or more containers')
  .argument('<container...>')
  .option('-t, --time <seconds>', 'seconds to wait before killing')
  .action(verb(() => import('./verbs/restart.js')));

program
  .command('kill')
  .description('kill one or more running containers')
  .argument('<container...>')
  .option('-s, --signal <signal>', 'signal to send', 'KILL')
  .action(verb(() => import('./verbs/kill.js')));

program
  .command('build')
  .description("build an image from a Dockerfile (docker's classic builder)")
  .argument('<context>', 'the build context directory, or - for a Dockerfile on stdin and no context')
  .option('-t, --tag <name:tag>', 'name the image (repeatable)', collect)
  .option('-f, --file <path>', 'the Dockerfile (default CONTEXT/Dockerfile; - for stdin)')
  .option('--build-arg <key=value>', 'a build-time variable (repeatable)', collect)
  .option('--no-cache', 'do not use the build cache')
  .option('-q, --quiet', 'print only the image id')
  .option('--label <key=value>', 'a label for the image (repeatable)', collect)
  .option('--target <stage>', 'build up to this stage')
  .option('--network <mode>', "RUN's network: bridge (default), none, host or a network name")
  .option('--rm', 'remove intermediate containers (always)')
  .option('--force-rm', 'remove intermediate containers (always)')
  .action(verb(() => import('./verbs/build.js')));

program
  .command('rm')
  .description('remove one or more containers')
  .argument('<container...>')
  .option('-f, --force', 'kill a running container first')
  .option('-v, --volumes', 'remove the anonymous volumes of the container')
  .action(verb(() => import('./verbs/rm.js')));

program
  .command('ps')
  .description('list containers')
  .option('-a, --all', 'show all containers (default: running)')
  .option('-q, --quiet', 'only ids')
  .option('--no-trunc', 'do not truncate output')
  .option('--format <template>', 'Go template (e.g. "{{.ID}} {{.Status}}"), "table …" or json')
  .option('-n, --last <n>', 'the n last created containers (all states)')
  .option('-l, --latest', 'the latest created container (all states)')
  .option('-s, --size', 'display total file sizes')
  .option('-f, --filter <filter>', 'filter: status=, name=, id=, label=, ancestor=, health=, exited=, before=, since=, volume=, network=', collect)
  .action(verb(() => import('./verbs/ps.js')));

program
  .command('logs')
  .description("fetch a container's logs")
  .argument('<container>')
  .option('-f, --follow', 'follow the log until the container stops')
  .option('-n, --tail <n>', 'lines from the end ("all")', 'all')
  .option('-t, --timestamps', 'show timestamps')
  .option('--since <time>', 'only after this time (RFC 3339, or a duration like 10m)')
  .option('--until <time>', 'only before this time (RFC 3339, or a duration)')
  .action(verb(() => import('./verbs/logs.js')));

const exec = program
  .command('exec')
  .description('run a command in a running container')
  .argument('<container>')
  .argument('<command...>')
  .helpOption('--help')
  .passThroughOptions();
for (const f of EXEC_FLAGS) {
  const opt = new Option(`${f.short ? `-${f.short}, ` : ''}--${f.long}${f.value ? ' <value>' : ''}`);
  if (f.long === 'env' || f.long === 'env-file') opt.argParser(collect as (v: string, p: unknown) => unknown);
  exec.addOption(opt);
}
exec.action(verb(() => import('./verbs/exec.js')));

program
  .command('update')
  .description("update containers' resources and restart policy")
  .argument('<container...>')
  .option('-m, --memory <bytes>', 'memory limit (0: none)')
  .option('--memory-swap <bytes>', 'memory plus swap limit (-1: unlimited swap)')
  .option('--memory-reservation <bytes>', 'memory soft limit')
  .option('--cpus <number>', 'number of CPUs (0: no limit)')
  .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
  .option('--cpu-period <µs>', 'limit the CPU CFS period')
  .option('--cpu-quota <µs>', 'limit the CPU CFS quota')
  .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
  .option('--cpuset-mems <list>', 'memory nodes in which to allow execution')
  .option('--pids-limit <n>', 'pids limit (-1: unlimited)')
  .option('--restart <policy>', 'restart policy (no, always, unless-stopped, on-failure[:N])')
  .action(verb(() => import('./verbs/update.js')));

program
  .command('diff')
  .description("a container's filesystem changes (A added, C changed, D deleted)")
  .argument('<container>')
  .action(verb(() => import('./verbs/diff.js')));

program
  .command('inspect')
  .description('low-level information on containers, images, volumes or networks (JSON)')
  .argument('<name...>')
  .option('-f, --format <template>', 'Go template')
  .option('--type <type>', 'container, image, volume or network')
  .option('-s, --size', 'accepted')
  .action(verb(() => import('./verbs/inspect.js')));

program
  .command('top')
  .description('the processes of a container')
  .argument('<container>')
  .argument('[ps-options...]')
  .passThroughOptions()
  .action(verb(() => import('./verbs/top.js')));

program
  .command('stats')
  .description("containers' resource use: CPU, memory, network and block I/O, pids")
  .argument('[container...]')
  .option('-a, --all', 'show all containers (default: running)')
  .option('--no-stream', 'print one table and exit')
  .option('--no-trunc', 'do not truncate output')
  .option('--format <template>', 'Go template (e.g. "{{.Name}} {{.CPUPerc}}") or "table …"')
  .action(verb(() => import('./verbs/stats.js')));

program
  .command('wait')
  .description('block until containers stop, then print their exit codes')
  .argument('<container...>')
  .action(verb(() => import('./verbs/wait.js')));

program
  .command('rename')
  .description('rename a container')
  .argument('<container>')
  .argument('<new-name>')
  .action(verb(() => import('./verbs/rename.js')));

program
  .command('pause')
  .description('freeze all processes of containers')
  .argument('<container...>')
  .action(verb(() => import('./verbs/pause.js')));

program
  .command('unpause')
  .description('thaw paused containers')
  .argument('<container...>')
  .action(verb(() => import('./verbs/unpause.js')));

const container = program.command('container').description('manage containers');
container
  .command('prune')
  .description('remove all stopped containers')
  .option('-f, --force', 'do not ask (mydocker never asks)')
  .option('--filter <filter>', 'until=<time>, label=K[=V], label!=K[=V]', collect)
  .action(verb(() => import('./verbs/container-prune.js')));
container
  .command('cleanup', { hidden: true })
  .description("the monitor's exit command: record the exit, release mounts and cgroup, --rm")
  .argument('<id>')
  .action(verb(() => import('./verbs/cleanup.js')));
container
  .command('healthcheck', { hidden: true })
  .description("the health checker's probe: run the container's healthcheck once, record the result")
  .argument('<id>')
  .action(verb(() => import('./verbs/healthcheck.js')));
container
  .command('ls')
  .alias('list')
  .description('list containers (as ps)')
  .option('-a, --all', 'show all containers')
  .option('-q, --quiet', 'only ids')
  .option('--no-trunc', 'do not truncate output')
  .option('--format <template>', 'Go template')
  .action(verb(() => import('./verbs/ps.js')));

/** Image verbs, at the top level as docker's (images, rmi, tag…) and under `image` (ls, rm, tag…). */
function imageVerbs(parent: Command, top: boolean) {
  const named = (name: string, alias?: string) => {
    const c = parent.command(name);
    return alias ? c.alias(alias) : c;
  };
  named(top ? 'images' : 'ls', top ? undefined : 'list')
    .description('list images')
    .argument('[repository]')
    .option('-a, --all', 'all images')
    .option('-q, --quiet', 'only ids')
    .option('--no-trunc', 'full ids')
    .option('--digests', 'show digests')
    .option('--format <template>', 'Go template')
    .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.images }))));
  named(top ? 'rmi' : 'rm', top ? undefined : 'remove')
    .description('remove images')
    .argument('<image...>')
    .option('-f, --force', 'untag and remove even if in use by a container')
    .option('--no-prune', 'keep untagged parents')
    .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.rmi }))));
  named('tag')
    .description('create a tag TARGET that refers to SOURCE')
    .argument('<source>')
    .argument('<target>')
    .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.tag }))));
  named('history')
    .description("show an image's history")
    .argument('<image>')
    .option('-q, --quiet', 'only ids')
    .option('--no-trunc', 'do not truncate')
    .option('-H, --human', 'human sizes and dates (default)')
    .option('--format <template>', 'Go template')
    .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.history }))));
  named('import')
    .description('import a rootfs tarball (.tar, .tar.gz, .tar.xz, or - for stdin) as an image')
    .argument('<file>')
    .argument('[repository[:tag]]')
    .option('-c, --change <instruction>', 'a Dockerfile instruction for the config (CMD, ENV, …)', collect)
    .option('-m, --message <message>', 'commit message')
    .option('--platform <os/arch>', 'platform of the image')
    .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.importVerb }))));
  named('load')
    .description('load images from a docker-save or OCI archive')
    .option('-i, --input <file>', 'read from a file (default: stdin)')
    .option('-q, --quiet', 'no progress')
    .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.load }))));
  named('save')
    .description('save images to a docker-save archive')
    .argument('<image...>')
    .option('-o, --output <file>', 'write to a file (default: stdout)')
    .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.save }))));
}
imageVerbs(program, true);
const image = program.command('image').description('manage images');
imageVerbs(image, false);
image
  .command('inspect')
  .argument('<image...>')
  .option('-f, --format <template>', 'Go template')
  .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.inspect }))));
image
  .command('prune')
  .option('-a, --all', 'all images without a container, not only dangling ones')
  .option('-f, --force', 'do not ask')
  .option('--filter <filter>', 'until=<time>, label=K[=V], label!=K[=V]', collect)
  .action(verb(() => import('./verbs/images.js').then((m) => ({ default: m.prune }))));

for (const parent of [program, container]) {
  parent
    .command('export')
    .description("a container's filesystem as a tar archive")
    .argument('<container>')
    .option('-o, --output <file>', 'write to a file (default: stdout)')
    .action(verb(() => import('./verbs/snapshot.js').then((m) => ({ default: m.exportVerb }))));
  parent
    .command('cp')
    .description('copy files between a container and the host (CONTAINER:SRC DEST, SRC CONTAINER:DEST; "-" is a tar on stdin/stdout)')
    .argument('<src>')
    .argument('<dest>')
    .option('-a, --archive', "keep the source's uid/gid (default: what is copied in is owned by root)")
    .option('-L, --follow-link', 'follow a symlink at SRC')
    .option('-q, --quiet', 'no "Successfully copied" line')
    .action(verb(() => import('./verbs/cp.js')));
  parent
    .command('commit')
    .description("a new image from a container's changes")
    .argument('<container>')
    .argument('[repository[:tag]]')
    .option('-a, --author <author>', 'author')
    .option('-m, --message <message>', 'commit message')
    .option('-c, --change <instruction>', 'a Dockerfile instruction for the config (CMD, ENV, …)', collect)
    .option('-p, --pause', 'pause the container while committing (default)', true)
    .option('--no-pause', 'do not pause the container')
    .action(verb(() => import('./verbs/snapshot.js').then((m) => ({ default: m.commit }))));
}

// Registry verbs (../registry/): pull, push, login, logout.
const insecureOpt = () => new Option('--insecure-registry <host>', 'allow plain HTTP / unverified TLS for this registry (host[:port] or CIDR; repeatable)').argParser(collect as (v: string, p: unknown) => unknown);
for (const parent of [program, image]) {
  parent
    .command('pull')
    .description('download an image from a registry')
    .argument('<name[:tag|@digest]>')
    .option('--platform <os/arch[/variant]>', "the platform to pull from a multi-platform image (default: the host's)")
    .option('-q, --quiet', 'print only the image name')
    .addOption(insecureOpt())
    .action(verb(() => import('./verbs/registry.js').then((m) => ({ default: m.pull }))));
  parent
    .command('push')
    .description('upload an image to a registry')
    .argument('<name[:tag]>')
    .option('-a, --all-tags', 'push every tag of the repository')
    .option('-q, --quiet', 'print only the pushed names')
    .addOption(insecureOpt())
    .action(verb(() => import('./verbs/registry.js').then((m) => ({ default: m.push }))));
}
program
  .command('login')
  .description('log in to a registry (credentials kept in config.json under the data root, or $DOCKER_CONFIG)')
  .argument('[server]')
  .option('-u, --username <username>', 'username')
  .option('-p, --password <password>', 'password (prefer --password-stdin)')
  .option('--password-stdin', 'read the password from stdin')
  .addOption(insecureOpt())
  .action(verb(() => import('./verbs/registry.js').then((m) => ({ default: m.login }))));
program
  .command('logout')
  .description('forget the credentials of a registry')
  .argument('[server]')
  .action(verb(() => import('./verbs/registry.js').then((m) => ({ default: m.logout }))));

const volume = program.command('volume').description('manage volumes');
volume
  .command('create')
  .description('create a volume')
  .argument('[name]')
  .option('-d, --driver <driver>', 'volume driver (local)', 'local')
  .option('-o, --opt <key=value>', 'driver options: type=, device=, o= (e.g. type=tmpfs device=tmpfs o=size=64m)', collect)
  .option('--label <label>', 'a label (repeatable)', collect)
  .action(verb(() => import('./verbs/volume.js').then((m) => ({ default: m.create }))));
volume
  .command('ls')
  .alias('list')
  .option('-q, --quiet', 'only names')
  .option('--format <template>', 'Go template')
  .action(verb(() => import('./verbs/volume.js').then((m) => ({ default: m.ls }))));
volume
  .command('rm')
  .alias('remove')
  .argument('<name...>')
  .option('-f, --force', 'no error for a missing volume')
  .action(verb(() => import('./verbs/volume.js').then((m) => ({ default: m.rm }))));
volume
  .command('inspect')
  .argument('<name...>')
  .option('-f, --format <template>', 'Go template')
  .action(verb(() => import('./verbs/volume.js').then((m) => ({ default: m.inspect }))));
volume
  .command('prune')
  .option('-f, --force', 'do not ask')
  .option('-a, --all', 'named volumes too (default: anonymous only)')
  .option('--filter <filter>', 'label=K[=V], label!=K[=V]', collect)
  .action(verb(() => import('./verbs/volume.js').then((m) => ({ default: m.prune }))));

const network = program.command('network').description('manage networks');
const netVerb = (name: 'create' | 'ls' | 'inspect' | 'rm' | 'connect' | 'disconnect' | 'prune' | 'port') =>
  verb(() => import('./verbs/network.js').then((m) => ({ default: m[name] as (...a: any[]) => unknown })));
network
  .command('create')
  .description('create a bridge network')
  .argument('<name>')
  .option('-d, --driver <driver>', 'driver (bridge)', 'bridge')
  .option('--subnet <cidr>', 'subnet, e.g. 172.28.0.0/16 (default: the next free of the pools)', collect)
  .option('--gateway <ip>', 'gateway address (default: the subnet\'s first)', collect)
  .option('--ip-range <cidr>', 'the part of the subnet container addresses come from', collect)
  .option('--label <label>', 'a label (repeatable)', collect)
  .option('-o, --opt <key=value>', 'driver option (com.docker.network.driver.mtu)', collect)
  .option('--ipv6', 'refused: IPv4 only')
  .option('--internal', 'restrict external access to the network (no way out of its subnet)')
  .option('--attachable', 'accepted (swarm\'s; no effect)')
  .action(netVerb('create'));
network
  .command('ls')
  .alias('list')
  .description('list networks')
  .option('-q, --quiet', 'only ids')
  .option('--no-trunc', 'full ids')
  .option('--format <template>', 'Go template')
  .option('-f, --filter <filter>', 'filter: name=, id=, driver=, type=custom|builtin, label=', collect)
  .action(netVerb('ls'));
network
  .command('inspect')
  .description('low-level information on networks (JSON)')
  .argument('<network...>')
  .option('-f, --format <template>', 'Go template')
  .option('-v, --verbose', 'accepted')
  .action(netVerb('inspect'));
network
  .command('rm')
  .alias('remove')
  .description('remove networks (refused while containers are attached)')
  .argument('<network...>')
  .option('-f, --force', 'no error for a missing network')
  .action(netVerb('rm'));
network
  .command('connect')
  .description('connect a container to a network (at once when it runs)')
  .argument('<network>')
  .argument('<container>')
  .option('--ip <address>', 'a fixed IPv4 address')
  .option('--alias <name>', 'a network-scoped name (repeatable)', collect)
  .action(netVerb('connect'));
network
  .command('disconnect')
  .description('disconnect a container from a network')
  .argument('<network>')
  .argument('<container>')
  .option('-f, --force', 'also from a network that is gone')
  .action(netVerb('disconnect'));
network
  .command('prune')
  .description('remove the networks no container is attached to')
  .option('-f, --force', 'do not ask (mydocker never asks)')
  .option('--filter <filter>', 'accepted', collect)
  .action(netVerb('prune'));

program
  .command('version')
  .description('versions of mydocker, its runtime and its monitor')
  .option('-f, --format <template>', 'Go template (e.g. "{{.Server.Version}}")')
  .action(verb(() => import('./verbs/system.js').then((m) => ({ default: m.version }))));

program
  .command('info')
  .description('system-wide information: containers, images, storage, cgroups, the host')
  .option('-f, --format <template>', 'Go template (e.g. "{{.CgroupVersion}}", "{{json .}}")')
  .action(verb(() => import('./verbs/system.js').then((m) => ({ default: m.info }))));


/** `events` and `system events`: docker's, from the journal under the run tree. */
function eventsVerb(parent: Command, name: string) {
  parent
    .command(name)
    .description('events of containers, images, volumes and networks: the past ones since --since, then new ones as they happen')
    .option('--since <time>', 'events from this time (RFC 3339, a Unix timestamp or a duration like 10m; default: only new ones)')
    .option('--until <time>', 'events up to this time, then exit (default: follow until interrupted)')
    .option('-f, --filter <filter>', 'filter: container=, image=, event=, type=, volume=, network=, label=, scope=', collect)
    .option('--format <template>', 'Go template (e.g. "{{.Type}} {{.Action}}", "{{json .}}") or json')
    .action(verb(() => import('./verbs/events.js')));
}
eventsVerb(program, 'events');

const system = program.command('system').description('manage mydocker as a whole');
eventsVerb(system, 'events');
system
  .command('df')
  .description('disk usage of images, containers and volumes')
  .option('-v, --verbose', 'show each image, container and volume')
  .option('--format <template>', 'Go template ({{.Type}} {{.Size}} …)')
  .action(verb(() => import('./verbs/system.js').then((m) => ({ default: m.df }))));
system
  .command('info')
  .option('-f, --format <template>', 'Go template')
  .action(verb(() => import('./verbs/system.js').then((m) => ({ default: m.info }))));
system
  .command('prune')
  .description('remove stopped containers, unused networks, dangling images (-a: all unused) and, with --volumes, unused anonymous volumes')
  .option('-a, --all', 'all images without a container, not only dangling ones')
  .option('--volumes', 'anonymous volumes no container uses, too')
  .option('-f, --force', 'do not ask (mydocker never asks)')
  .option('--filter <filter>', 'until=<time>, label=K[=V], label!=K[=V] (containers and images)', collect)
  .action(verb(() => import('./verbs/system.js').then((m) => ({ default: m.prune }))));

program
  .command('port')
  .description("a running container's published ports")
  .argument('<container>')
  .argument('[private-port]')
  .action(netVerb('port'));

/** Verbs whose flags stop at the first positional (the image, the container). */
const POSITIONAL_VERBS: Record<string, typeof RUN_FLAGS> = { run: RUN_FLAGS, create: RUN_FLAGS, exec: EXEC_FLAGS };

/**
 * docker's management commands that are top-level verbs by their long name: `container stop`
 * is `stop`, `image rm` is `rmi`, `container inspect` is `inspect --type container`. (Those
 * with a behaviour of their own — `container ls`, `container prune`, `image ls` … — are
 * subcommands in the program above.)
 */
const MANAGEMENT: Record<string, Record<string, string[]>> = {
  container: Object.fromEntries(
    ['run', 'create', 'start', 'stop', 'restart', 'kill', 'rm', 'logs', 'exec', 'top', 'stats', 'wait', 'rename', 'pause', 'unpause', 'attach', 'port', 'diff', 'update'].map((v) => [v, [v]]),
  ),
  image: { build: ['build'], history: ['history'], import: ['import'], load: ['load'], save: ['save'], tag: ['tag'], rm: ['rmi'], remove: ['rmi'] },
};
MANAGEMENT.container!.inspect = ['inspect', '--type', 'container'];

function normalize(argv: string[]): string[] {
  // argv: [node, script, ...globals, verb, ...]. Globals take a value only for --root.
  let i = 2;
  while (i < argv.length && argv[i]!.startsWith('-')) i += argv[i] === '--root' ? 2 : 1;
  const group = MANAGEMENT[argv[i] ?? ''];
  const verb = group && Object.hasOwn(group, argv[i + 1] ?? '') ? group[argv[i + 1]!] : undefined;
  if (verb) argv = [...argv.slice(0, i), ...verb, ...argv.slice(i + 2)];
  const v = argv[i];
  const flags = v ? POSITIONAL_VERBS[v] : undefined;
  return flags ? normalizeArgs(argv, i + 1, flags) : argv;
}

export async function main(argv: string[]): Promise<void> {
  trace('mydocker: main module running');
  // `mydocker logs x | head`: a reader that went away ends our output, not with a stack trace.
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  try {
    await program.parseAsync(normalize(argv));
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return;
      process.stderr.write(`mydocker: ${e.message.replace(/^error: /, '')}\nSee 'mydocker --help'.\n`);
      process.exitCode = 125;
      return;
    }
    fail(e);
  }
}

void main(process.argv);
