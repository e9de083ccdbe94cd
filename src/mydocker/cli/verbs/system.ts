// `version`, `info` (also `system info`) and `system prune`: what a docker user types first
// on a new machine, and to clean up. mydocker has no daemon: the "Server" side is this engine,
// its runtime and its monitor, read from the data root and the host as docker's daemon reports
// them, with docker's field names for --format.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { detectLayout } from '../../../cgroups/layout.js';
import { liveState } from '../../containers/status.js';
import { CONMON } from '../../containers/monitor.js';
import { loadSettings } from '../../registry/hosts.js';
import { bytesSize } from '../../units.js';
import { engineFor, type Globals } from '../globals.js';
import { compile } from '../template.js';

const VERSION = '0.1.0';
const SPEC = '1.2.0';
/** Node's arch names → Go's, which docker prints (GOARCH). */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

function conmonVersion(): string {
  const r = spawnSync(CONMON, ['--version'], { encoding: 'utf8' });
  return /version\s+(\S+)/.exec(r.stdout ?? '')?.[1] ?? 'not found';
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

function printFormatted(format: string, value: unknown): void {
  const t = compile(format);
  process.stdout.write(`${t.exec(value as Record<string, unknown>)}\n`);
}

export function version(o: { format?: string }, _g: Globals): void {
  const platform = `linux/${GOARCH[arch()] ?? arch()}`;
  const v = {
    Client: { Version: VERSION, NodeVersion: process.version, Os: 'linux', Arch: GOARCH[arch()] ?? arch() },
    Server: {
      Version: VERSION,
      Components: [
        { Name: 'Engine', Version: VERSION, Details: { Daemon: 'none (daemonless: the runtime is a library, conmon stays with each container)' } },
        { Name: 'mydocker-runc', Version: VERSION, Details: { Spec: SPEC } },
        { Name: 'conmon', Version: conmonVersion() },
      ],
      KernelVersion: release(),
      Os: 'linux',
      Arch: GOARCH[arch()] ?? arch(),
    },
  };
  if (o.format) return printFormatted(o.format, v);
  process.stdout.write(
    [
      'Client:',
      ` Version:           ${VERSION}`,
      ` Node version:      ${process.version}`,
      ` OS/Arch:           ${platform}`,
      '',
      'Server:',
      ' Engine:',
      `  Version:          ${VERSION}`,
      `  Kernel:           ${release()}`,
      `  OS/Arch:          ${platform}`,
      '  Daemon:           none (daemonless)',
      ' mydocker-runc:',
      `  Version:          ${VERSION}`,
      `  Spec:             ${SPEC}`,
      ' conmon:',
      `  Version:          ${v.Server.Components[2]!.Version}`,
      '',
    ].join('\n'),
  );
}

export function info(o: { format?: string }, g: Globals): void {
  const engine = engineFor(g);
  let running = 0;
  let paused = 0;
  let stopped = 0;
  const recs = engine.containers.list();
  for (const rec of recs) {
    const live = liveState(engine, rec);
    if (live.Paused) paused++;
    else if (live.Running) running++;
    else stopped++;
  }
  const layout = detectLayout();
  let insecure: string[] = [];
  let warning = '';
  try {
    insecure = loadSettings(engine.paths.lib).insecure;
  } catch (e) {
    warning = (e as Error).message; // a broken daemon.json is reported, not fatal to `info`
  }
  const v = {
    ID: '',
    Containers: recs.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: stopped,
    Images: engine.images.list().length,
    Driver: 'overlay',
    LoggingDriver: 'k8s-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: layout.kind === 'v2' ? '2' : '1',
    KernelVersion: release(),
    OperatingSystem: osName(),
    OSType: 'linux',
    Architecture: arch() === 'x64' ? 'x86_64' : arch(),
    NCPU: cpus().length,
    MemTotal: totalmem(),
    Name: hostname(),
    DockerRootDir: engine.paths.lib,
    ServerVersion: VERSION,
    DefaultRuntime: 'mydocker-runc',
    Runtimes: { 'mydocker-runc': { path: engine.runtimeCli } },
    RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8', ...insecure.filter((s) => s.includes('/'))], IndexConfigs: Object.fromEntries(insecure.filter((s) => !s.includes('/')).map((s) => [s, { Name: s, Secure: false }])) },
    Warnings: warning ? [warning] : [],
  };
  if (o.format) return printFormatted(o.format, v);
  const lines = [
    'Client:',
    ` Version:    ${VERSION}`,
    '',
    'Server:',
    ` Containers: ${v.Containers}`,
    `  Running: ${running}`,
    `  Paused: ${paused}`,
    `  Stopped: ${stopped}`,
    ` Images: ${v.Images}`,
    ` Server Version: ${VERSION}`,
    ` Storage Driver: ${v.Driver}`,
    ` Logging Driver: ${v.LoggingDriver}`,
    ` Cgroup Driver: ${v.CgroupDriver}`,
    ` Cgroup Version: ${v.CgroupVersion}${layout.kind === 'hybrid' ? ' (hybrid: v1 controllers, a cgroup2 tree beside them)' : ''}`,
    ' Runtimes: mydocker-runc',
    ' Default Runtime: mydocker-runc',
    ` Kernel Version: ${v.KernelVersion}`,
    ` Operating System: ${v.OperatingSystem}`,
    ` OSType: linux`,
    ` Architecture: ${v.Architecture}`,
    ` CPUs: ${v.NCPU}`,
    ` Total Memory: ${bytesSize(v.MemTotal)}`,
    ` Name: ${v.Name}`,
    ` Docker Root Dir: ${v.DockerRootDir}`,
    ' Insecure Registries:',
    ...[...Object.keys(v.RegistryConfig.IndexConfigs), ...v.RegistryConfig.InsecureRegistryCIDRs].map((s) => `  ${s}`),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (warning) process.stderr.write(`WARNING: ${warning}\n`);
}

/**
 * `system prune [-a] [--volumes]`: stopped containers, unused networks, dangling images (all
 * unused ones with -a) and, with --volumes, anonymous volumes no container uses — each by the
 * verb that prunes it alone, so the rules are the same.
 */
export async function prune(o: { all?: boolean; volumes?: boolean; filter?: string[] }, g: Globals): Promise<void> {
  const filter = o.filter ?? [];
  await (await import('./container-prune.js')).default({ filter }, g);
  (await import('./network.js')).prune({}, g);
  await (await import('./images.js')).prune({ all: !!o.all, filter }, g);
  if (o.volumes) (await import('./volume.js')).prune({}, g);
}

/**
 * `system df [-v] [--format]`: what images, containers and volumes take, and what a prune
 * would give back — docker's table. Shared layers are counted once; an image is active while
 * a container uses it, a container while it runs, a volume while a container mounts it.
 */
export async function df(o: { verbose?: boolean; format?: string }, g: Globals): Promise<void> {
  const [{ treeSize }, { rootfsDirs }, { humanSize }, { alignTable }] = await Promise.all([
    import('../../fs/tree-size.js'),
    import('../../containers/rootfs.js'),
    import('../../units.js'),
    import('../output.js'),
  ]);
  const engine = engineFor(g);
  const images = engine.images.list();
  const containers = engine.containers.list();
  const volumes = engine.volumes.list();
  const layerSize = (d: string) => (engine.images.layers.has(d) ? engine.images.layers.meta(d).size : 0);
  const sumLayers = (imgs: typeof images) => [...new Set(imgs.flatMap((i) => i.config.rootfs.diff_ids))].reduce((n, d) => n + layerSize(d), 0);
  const usedImages = new Set(containers.map((c) => c.ImageId));
  const imagesTotal = sumLayers(images);
  const imagesActive = sumLayers(images.filter((i) => usedImages.has(i.id)));
  const live = containers.map((c) => ({ rec: c, running: liveState(engine, c).Running, size: treeSize(rootfsDirs(engine.containers.path(c.Id)).upper) }));
  const mounted = new Set(containers.flatMap((c) => c.Mounts.filter((m) => m.Type === 'volume').map((m) => m.Name)));
  const vols = volumes.map((v) => ({ v, used: mounted.has(v.Name), size: treeSize(v.Mountpoint) }));
  const reclaim = (n: number, total: number) => `${humanSize(n)}${total > 0 ? ` (${Math.round((n * 100) / total)}%)` : ''}`;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const rows = [
    { Type: 'Images', TotalCount: images.length, Active: usedImages.size, Size: humanSize(imagesTotal), Reclaimable: reclaim(imagesTotal - imagesActive, imagesTotal) },
    (() => {
      const total = sum(live.map((x) => x.size));
      return { Type: 'Containers', TotalCount: live.length, Active: live.filter((x) => x.running).length, Size: humanSize(total), Reclaimable: reclaim(sum(live.filter((x) => !x.running).map((x) => x.size)), total) };
    })(),
    (() => {
      const total = sum(vols.map((x) => x.size));
      return { Type: 'Local Volumes', TotalCount: vols.length, Active: vols.filter((x) => x.used).length, Size: humanSize(total), Reclaimable: reclaim(sum(vols.filter((x) => !x.used).map((x) => x.size)), total) };
    })(),
    { Type: 'Build Cache', TotalCount: 0, Active: 0, Size: '0B', Reclaimable: '0B' },
  ];
  if (o.format) {
    const t = compile(o.format);
    const lines = rows.map((r) => t.exec(r));
    process.stdout.write(`${t.table ? alignTable([t.exec({ Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' }), ...lines]) : lines.join('\n')}\n`);
    return;
  }
  const out = [alignTable(['TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE', ...rows.map((r) => `${r.Type}\t${r.TotalCount}\t${r.Active}\t${r.Size}\t${r.Reclaimable}`)])];
  if (o.verbose) {
    out.push(
      '',
      'Images space usage:',
      '',
      alignTable([
        'REPOSITORY\tTAG\tIMAGE ID\tSIZE\tCONTAINERS',
        ...images.map((i) => {
          const tag = i.repoTags[0];
          const [repo, t] = tag ? [tag.slice(0, tag.lastIndexOf(':')).replace(/^docker\.io\/(library\/)?/, ''), tag.slice(tag.lastIndexOf(':') + 1)] : ['<none>', '<none>'];
          return `${repo}\t${t}\t${i.id.slice(7, 19)}\t${humanSize(i.size)}\t${containers.filter((c) => c.ImageId === i.id).length}`;
        }),
      ]),
      '',
      'Containers space usage:',
      '',
      alignTable(['CONTAINER ID\tIMAGE\tSIZE\tSTATUS\tNAMES', ...live.map((x) => `${x.rec.Id.slice(0, 12)}\t${x.rec.Config.Image}\t${humanSize(x.size)}\t${x.running ? 'running' : 'stopped'}\t${x.rec.Name}`)]),
      '',
      'Local Volumes space usage:',
      '',
      alignTable(['VOLUME NAME\tLINKS\tSIZE', ...vols.map((x) => `${x.v.Name}\t${containers.filter((c) => c.Mounts.some((m) => m.Type === 'volume' && m.Name === x.v.Name)).length}\t${humanSize(x.size)}`)]),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
