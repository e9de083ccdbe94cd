// `run`/`create` flags → a container's Config and HostConfig, docker's way. Pure: every value
// is checked here, with the flag named in the error, before anything is made on the host.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { isAbsolute, posix } from 'node:path';
import { SIGNALS } from '../../spec/tables.js';
import { ramInBytes } from '../../spec/units.js';
import { InputError } from '../errors.js';
import { HOST_GATEWAY } from './etc-files.js';
import { mountPointOf, parseMountFlag, tmpfsOptionsOf } from './mount-flag.js';
import { parseRestartPolicy } from './restart.js';
import { healthcheckConfig, type HealthFlags } from './health.js';
import type { Image, ImageRunConfig } from '../images/types.js';
import type { ContainerConfig, DeviceMapping, HostConfig, MountPoint, PortBinding } from './record.js';

/** The flags as the CLI collected them (strings; repeatable flags as arrays). */
export interface RunFlags extends HealthFlags {
  name?: string;
  detach?: boolean;
  /** -a: the streams a foreground run attaches to (stdin, stdout, stderr). */
  attach?: string[];
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  env?: string[];
  envFile?: string[];
  volume?: string[];
  tmpfs?: string[];
  label?: string[];
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  shmSize?: string;
  hostname?: string;
  workdir?: string;
  user?: string;
  entrypoint?: string;
  readOnly?: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  network?: string;
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  ip?: string;
  networkAlias?: string[];
  addHost?: string[];
  /** Only for the foreground client (run -it): the bytes that detach it. */
  detachKeys?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  device?: string[];
  ulimit?: string[];
  restart?: string;
  mount?: string[];
  logDriver?: string;
  logOpt?: string[];
  platform?: string;
  init?: boolean;
  volumesFrom?: string[];
  pid?: string;
  ipc?: string;
  uts?: string;
  sysctl?: string[];
  groupAdd?: string[];
  cidfile?: string;
  pull?: string;
  labelFile?: string[];
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetMems?: string;
  memoryReservation?: string;
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
}

/** What a container is made of, before it has an id. */
export interface ContainerSpec {
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Binds and volumes as asked (volume sources are filled in when the volume exists). */
  mounts: MountPoint[];
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A signal name or number as docker takes it for --stop-signal ("SIGTERM", "TERM", "15"). */
export function parseStopSignal(flag: string, value: string): string {
  const v = value.trim().toUpperCase();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 64) throw new InputError(`${flag} ${value}: invalid signal`);
    return String(n);
  }
  const name = v.startsWith('SIG') ? v : `SIG${v}`;
  if (!Object.hasOwn(SIGNALS, name)) throw new InputError(`${flag} ${value}: invalid signal`);
  return name;
}

export function intFlag(flag: string, value: string, min: number): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InputError(`invalid argument ${JSON.stringify(value)} for "${flag}" flag: not an integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new InputError(`invalid argument ${JSON.stringify(value)} for "${flag}" flag: must be ≥ ${min}`);
  return n;
}

export function bytesFlag(flag: string, value: string): number {
  try {
    return ramInBytes(flag, value);
  } catch (e) {
    throw new InputError(`invalid argument ${JSON.stringify(value)} for "${flag}" flag: invalid size (e.g. 512m, 1g)`, { cause: e });
  }
}

/**
 * "0.5", "2" → nano CPUs, as docker's --cpus: 0 means no limit; otherwise 0.01 up to the
 * host's CPU count, with docker's message outside that range.
 */
export function cpusFlag(value: string): number {
  const v = value.trim();
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(v)) throw new InputError(`invalid argument ${JSON.stringify(value)} for "--cpus" flag: not a number (e.g. 0.5, 2)`);
  const nano = Math.round(Number(v) * 1e9);
  const n = availableParallelism();
  if (nano !== 0 && (nano < 1e7 || nano > n * 1e9)) {
    throw new InputError(`--cpus ${v}: range of CPUs is from 0.01 to ${n}.00, as there ${n === 1 ? 'is only 1 CPU' : `are only ${n} CPUs`} available`);
  }
  return nano;
}

/** `--env-file`: KEY=VALUE lines, KEY alone takes the caller's value, # comments, blank lines. */
export function readEnvFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`--env-file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    if (!key || /\s/.test(key)) throw new InputError(`--env-file ${path}:${i + 1}: variable ${JSON.stringify(key)} contains whitespaces`);
    if (eq < 0) {
      const v = process.env[key];
      if (v !== undefined) out.push(`${key}=${v}`);
    } else out.push(line);
  });
  return out;
}

/** `-e K=V` as is; `-e K` takes the caller's value if it has one (docker), else is dropped. */
export function parseEnvFlag(value: string): string | null {
  if (value.startsWith('=')) throw new InputError(`-e ${value}: invalid environment variable (empty name)`);
  if (value.includes('=')) return value;
  const v = process.env[value];
  return v === undefined ? null : `${value}=${v}`;
}

/** Later entries win, order of first appearance kept (docker's env merge). */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) {
    for (const kv of list) {
      const eq = kv.indexOf('=');
      const k = eq < 0 ? kv : kv.slice(0, eq);
      map.set(k, kv);
    }
  }
  return [...map.values()];
}

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

/** One `-v`: /host:/ctr[:opts], name:/ctr[:opts], or /ctr (anonymous volume). */
export function parseVolume(spec: string): MountPoint {
  const parts = spec.split(':');
  const bad = (why: string) => new InputError(`-v ${spec}: ${why}`);
  if (parts.some((p) => p === '') || parts.length > 3) throw bad('invalid volume specification (want /host:/container[:ro], name:/container[:ro] or /container)');
  let source = '';
  let dest: string;
  let opts = '';
  if (parts.length === 1) dest = parts[0]!;
  else if (parts.length === 2) {
    if (parts[1]!.startsWith('/') || !parts[0]!.startsWith('/')) [source, dest] = [parts[0]!, parts[1]!];
    else [dest, opts] = [parts[0]!, parts[1]!];
  } else [source, dest, opts] = [parts[0]!, parts[1]!, parts[2]!];
  if (!isAbsolute(dest)) throw bad(`the container path ${JSON.stringify(dest)} must be absolute`);
  dest = posix.normalize(dest);
  if (dest === '/') throw bad('cannot mount over the container root "/"');
  let rw = true;
  let propagation = '';
  let mode = '';
  for (const o of opts ? opts.split(',') : []) {
    if (o === 'ro') rw = false;
    else if (o === 'rw') rw = true;
    else if (PROPAGATIONS.has(o)) propagation = o;
    else if (o === 'z' || o === 'Z' || o === 'nocopy' || o === 'copy' || o === 'consistent' || o === 'cached' || o === 'delegated') {
      /* SELinux relabel and Docker Desktop hints: nothing to do on this host */
    } else throw bad(`unknown option ${JSON.stringify(o)} (known: ro, rw, z, Z, nocopy, shared, slave, private and their r* forms)`);
    mode = mode ? `${mode},${o}` : o;
  }
  if (source === '') return { Type: 'volume', Name: '', Source: '', Destination: dest, Mode: mode, RW: rw, Propagation: propagation };
  if (source.startsWith('/')) {
    return { Type: 'bind', Source: posix.normalize(source), Destination: dest, Mode: mode, RW: rw, Propagation: propagation || 'rprivate' };
  }
  if (!VOLUME_NAME_RE.test(source)) {
    throw bad(`${JSON.stringify(source)} is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+); host paths must be absolute`);
  }
  return { Type: 'volume', Name: source, Source: '', Destination: dest, Mode: mode, RW: rw, Propagation: propagation };
}

/** `--device /dev/x[:/dev/y][:rwm]`. */
export function parseDevice(spec: string): DeviceMapping {
  const parts = spec.split(':');
  const host = parts[0] ?? '';
  let ctr = host;
  let perms = 'rwm';
  if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1]!)) perms = parts[1]!;
    else ctr = parts[1]!;
  } else if (parts.length === 3) [ctr, perms] = [parts[1]!, parts[2]!];
  else if (parts.length > 3) throw new InputError(`--device ${spec}: invalid device specification`);
  if (!host.startsWith('/')) throw new InputError(`--device ${spec}: the host device path must be absolute`);
  if (!ctr.startsWith('/')) throw new InputError(`--device ${spec}: the container device path must be absolute`);
  if (!/^[rwm]+$/.test(perms)) throw new InputError(`--device ${spec}: invalid cgroup permissions ${JSON.stringify(perms)} (use r, w, m)`);
  return { PathOnHost: host, PathInContainer: ctr, CgroupPermissions: perms };
}

/** `--ulimit nofile=1024[:2048]`. */
export function parseUlimit(spec: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(spec);
  if (!m) throw new InputError(`--ulimit ${spec}: want name=soft[:hard], e.g. nofile=1024:2048`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  const known = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack', 'as'];
  if (!known.includes(m[1]!)) throw new InputError(`--ulimit ${spec}: unknown limit ${m[1]} (known: ${known.join(', ')})`);
  if (soft > hard && hard !== -1) throw new InputError(`--ulimit ${spec}: soft limit ${soft} is greater than the hard limit ${hard}`);
  return { Name: m[1]!, Soft: soft, Hard: hard };
}

/** `-p [ip:][hostPort:]containerPort[/proto]` (ranges not supported; IPv4 only). */
export function parsePublish(spec: string): { key: string; binding: PortBinding } {
  const bad = (why: string) => new InputError(`-p ${spec}: ${why}`);
  const slash = spec.lastIndexOf('/');
  const proto = slash < 0 ? 'tcp' : spec.slice(slash + 1);
  const parts = (slash < 0 ? spec : spec.slice(0, slash)).split(':');
  if (proto === 'sctp') throw bad('sctp is not supported (tcp or udp)');
  if (proto !== 'tcp' && proto !== 'udp') throw bad(`invalid protocol ${JSON.stringify(proto)} (tcp or udp)`);
  if (parts.length > 3) throw bad('invalid port specification (want [ip:]hostPort:containerPort[/tcp|udp] or containerPort; IPv6 is not supported)');
  const [ctrPort = '', hostPort = '', ip = ''] = [...parts].reverse();
  for (const [what, p, optional] of [['container', ctrPort, false], ['host', hostPort, true]] as const) {
    if (optional && p === '') continue;
    if (/^\d+-\d+$/.test(p)) throw bad(`port ranges (${p}) are not supported`);
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw bad(`invalid ${what} port ${JSON.stringify(p)}`);
  }
  if (ip && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw bad(`host address ${ip} is not an IPv4 address (IPv6 is not supported)`);
  return { key: `${Number(ctrPort)}/${proto}`, binding: { HostIp: ip, HostPort: hostPort ? String(Number(hostPort)) : '' } };
}

/** `--expose PORT[/proto]` (docker also takes ranges: 8000-8002/tcp). */
export function parseExpose(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) throw new InputError(`--expose ${spec}: invalid port (want PORT[-PORT][/tcp|udp])`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) throw new InputError(`--expose ${spec}: invalid port range`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => `${lo + i}/${m[3] ?? 'tcp'}`);
}

export function parseLabel(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  const k = eq < 0 ? spec : spec.slice(0, eq);
  if (!k) throw new InputError(`--label ${spec}: empty label name`);
  return [k, eq < 0 ? '' : spec.slice(eq + 1)];
}

/** Split `--entrypoint` as docker: one string, no shell splitting (spaces stay in the name). */
function entrypointOf(flag: string | undefined, image: ImageRunConfig): string[] | null {
  if (flag === undefined) return image.Entrypoint ?? null;
  return flag === '' ? null : [flag];
}

/**
 * Config and HostConfig from the image's config and the flags. `command` is what followed the
 * image name (empty: the image's Cmd, unless --entrypoint was given, which resets it as docker).
 */
export function containerSpec(imageRef: string, image: Image, command: string[], f: RunFlags): ContainerSpec {
  const ic: ImageRunConfig = image.config.config ?? {};
  const entrypoint = entrypointOf(f.entrypoint, ic);
  const cmd = command.length ? command : f.entrypoint !== undefined ? null : (ic.Cmd ?? null);
  if (!(entrypoint?.length || cmd?.length)) {
    throw new InputError(`no command specified: the image ${imageRef} has no Cmd or Entrypoint; give a command after the image`);
  }
  const userEnv: string[] = [];
  for (const file of f.envFile ?? []) userEnv.push(...readEnvFile(file));
  for (const e of f.env ?? []) {
    const kv = parseEnvFlag(e);
    if (kv) userEnv.push(kv);
  }
  const imageEnv = ic.Env ?? [];
  const env = mergeEnv(imageEnv.some((e) => e.startsWith('PATH=')) ? [] : [DEFAULT_PATH], imageEnv, userEnv);

  if (f.hostname !== undefined && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(f.hostname)) {
    throw new InputError(`--hostname ${f.hostname}: invalid hostname (letters, digits, "." and "-", at most 63 characters)`);
  }
  if (f.workdir !== undefined && !isAbsolute(f.workdir)) throw new InputError(`--workdir ${f.workdir}: must be an absolute path`);

  const labels: Record<string, string> = { ...(ic.Labels ?? {}) };
  for (const l of [...(f.labelFile ?? []).flatMap(readLabelFile), ...(f.label ?? [])]) {
    const [k, v] = parseLabel(l);
    labels[k] = v;
  }

  const memory = f.memory ? bytesFlag('--memory', f.memory) : 0;
  if (memory && memory < 6 * 1024 * 1024) {
    throw new InputError(`--memory ${f.memory}: minimum memory limit allowed is 6MB (docker's rule)`);
  }
  let memorySwap = 0;
  if (f.memorySwap !== undefined && f.memorySwap !== '') {
    memorySwap = f.memorySwap === '-1' ? -1 : bytesFlag('--memory-swap', f.memorySwap);
    if (!memory) throw new InputError('--memory-swap: needs --memory too (it is memory plus swap)');
    if (memorySwap !== -1 && memorySwap < memory) throw new InputError(`--memory-swap ${f.memorySwap}: must be at least --memory ${f.memory} (it is memory plus swap)`);
  }
  const memoryReservation = f.memoryReservation ? bytesFlag('--memory-reservation', f.memoryReservation) : 0;
  if (memory && memoryReservation > memory) {
    throw new InputError(`--memory-reservation ${f.memoryReservation}: must be below --memory ${f.memory} (a soft limit under the hard one)`);
  }
  const nanoCpus = f.cpus ? cpusFlag(f.cpus) : 0;
  const cpuPeriod = f.cpuPeriod !== undefined ? intFlag('--cpu-period', f.cpuPeriod, 0) : 0;
  const cpuQuota = f.cpuQuota !== undefined ? intFlag('--cpu-quota', f.cpuQuota, -1) : 0;
  if (nanoCpus && (cpuPeriod || cpuQuota)) throw new InputError('Conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set');
  if (cpuPeriod && (cpuPeriod < 1000 || cpuPeriod > 1_000_000)) throw new InputError(`--cpu-period ${f.cpuPeriod}: must be between 1000 and 1000000 (microseconds)`);
  if (cpuQuota > 0 && cpuQuota < 1000) throw new InputError(`--cpu-quota ${f.cpuQuota}: must be at least 1000 (microseconds), or -1 for none`);
  const oomScoreAdj = f.oomScoreAdj !== undefined ? intFlag('--oom-score-adj', f.oomScoreAdj, -1000) : 0;
  if (oomScoreAdj > 1000) throw new InputError(`--oom-score-adj ${f.oomScoreAdj}: must be between -1000 and 1000`);
  const restartPolicy = parseRestartPolicy(f.restart ?? 'no');
  // docker's rule: a container that restarts cannot also be removed when it exits.
  if (f.rm && restartPolicy.Name !== 'no') throw new InputError('Conflicting options: --restart and --rm');
  const stopTimeout = f.stopTimeout !== undefined ? intFlag('--stop-timeout', f.stopTimeout, -1) : null;
  // docker's default: the default bridge network ("default" is its other name).
  const network = f.network ?? 'bridge';
  if (!/^(none|host|bridge|container:[^:\s]+|[a-zA-Z0-9][a-zA-Z0-9_.-]*)$/.test(network)) {
    throw new InputError(`--network ${network}: invalid network mode (none, host, bridge, container:NAME or a network name)`);
  }
  // docker's conflicts: in another container's network, its addresses, names and ports are that container's.
  if (network.startsWith('container:')) {
    const conflict = (what: string, given: unknown) => {
      if (given) throw new InputError(`Conflicting options: ${what} and the network mode (--network ${network})`);
    };
    conflict('--publish', f.publish?.length || f.publishAll);
    conflict('--expose', f.expose?.length);
    conflict('--hostname', f.hostname !== undefined);
    conflict('--dns', f.dns?.length || f.dnsSearch?.length || f.dnsOption?.length);
    conflict('--add-host', f.addHost?.length);
    conflict('--ip', f.ip !== undefined);
    conflict('--network-alias', f.networkAlias?.length);
  }
  const pidMode = f.pid?.startsWith('container:') ? f.pid : namespaceMode('--pid', f.pid, ['host']);
  const ipcMode = namespaceMode('--ipc', f.ipc, ['host', 'private', 'shareable', 'none']) || 'private';
  const utsMode = namespaceMode('--uts', f.uts, ['host']);
  if (utsMode === 'host' && f.hostname !== undefined) throw new InputError('Conflicting options: --hostname and --uts=host');
  const sysctls = parseSysctls(f.sysctl ?? [], { hostNetwork: network === 'host', hostIpc: ipcMode === 'host', hostUts: utsMode === 'host' });
  const portBindings: Record<string, PortBinding[]> = {};
  for (const p of f.publish ?? []) {
    const { key, binding } = parsePublish(p);
    (portBindings[key] ??= []).push(binding);
  }
  // As docker: a published port is an exposed one too (what -P and inspect list).
  const exposed: Record<string, object> = { ...(ic.ExposedPorts ?? {}) };
  for (const e of f.expose ?? []) for (const k of parseExpose(e)) exposed[k] = {};
  for (const k of Object.keys(portBindings)) exposed[k] = {};
  const tmpfs: Record<string, string> = {};
  for (const t of f.tmpfs ?? []) {
    const [dest = '', opts = ''] = t.split(/:(.*)/s);
    if (!isAbsolute(dest)) throw new InputError(`--tmpfs ${t}: the container path must be absolute`);
    tmpfs[posix.normalize(dest)] = opts;
  }

  const mountSpecs = (f.mount ?? []).map(parseMountFlag);
  for (const m of mountSpecs) {
    if (m.Type !== 'tmpfs') continue;
    if (Object.hasOwn(tmpfs, m.Target)) throw new InputError(`--mount/--tmpfs: duplicate mount point ${m.Target}`);
    tmpfs[m.Target] = tmpfsOptionsOf(m);
  }
  const mounts = [...(f.volume ?? []).map(parseVolume), ...mountSpecs.filter((m) => m.Type !== 'tmpfs').map(mountPointOf)];
  const seen = new Set<string>();
  for (const m of [...mounts.map((x) => x.Destination), ...Object.keys(tmpfs)]) {
    if (seen.has(m)) throw new InputError(`-v/--mount/--tmpfs: duplicate mount point ${m}`);
    seen.add(m);
  }
  // Image VOLUMEs not covered by a -v become anonymous volumes, as in docker.
  for (const dest of Object.keys(ic.Volumes ?? {})) {
    const d = posix.normalize(dest);
    if (!seen.has(d)) mounts.push({ Type: 'volume', Name: '', Source: '', Destination: d, Mode: '', RW: true, Propagation: '' });
  }

  const config: ContainerConfig = {
    Hostname: f.hostname ?? '',
    Domainname: '',
    User: f.user ?? ic.User ?? '',
    AttachStdin: !f.detach && !!f.interactive,
    AttachStdout: !f.detach,
    AttachStderr: !f.detach,
    Tty: !!f.tty,
    OpenStdin: !!f.interactive,
    StdinOnce: !!f.interactive && !f.detach,
    Env: f.tty && !env.some((e) => e.startsWith('TERM=')) ? [...env, 'TERM=xterm'] : env,
    Cmd: cmd,
    Entrypoint: entrypoint,
    Image: imageRef,
    WorkingDir: f.workdir ?? ic.WorkingDir ?? '',
    Labels: labels,
    StopSignal: f.stopSignal !== undefined ? parseStopSignal('--stop-signal', f.stopSignal) : ic.StopSignal ? parseStopSignal('image StopSignal', ic.StopSignal) : 'SIGTERM',
    StopTimeout: stopTimeout,
    Volumes: ic.Volumes ?? null,
    ...healthcheckConfig(f, ic.Healthcheck),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
  };
  const hostConfig: HostConfig = {
    Binds: (f.volume ?? []).slice(),
    NetworkMode: hostConfigNetwork(network),
    PortBindings: portBindings,
    PublishAllPorts: !!f.publishAll,
    AutoRemove: !!f.rm,
    RestartPolicy: restartPolicy,
    Privileged: !!f.privileged,
    ReadonlyRootfs: !!f.readOnly,
    CapAdd: f.capAdd ?? [],
    CapDrop: f.capDrop ?? [],
    SecurityOpt: (f.securityOpt ?? []).map(checkSecurityOpt),
    Devices: (f.device ?? []).map(parseDevice),
    Memory: memory,
    MemorySwap: memorySwap || (memory ? memory * 2 : 0),
    NanoCpus: nanoCpus,
    CpuPeriod: cpuPeriod,
    CpuQuota: cpuQuota,
    CpusetMems: f.cpusetMems ? checkCpuset(f.cpusetMems, '--cpuset-mems') : '',
    MemoryReservation: memoryReservation,
    OomKillDisable: !!f.oomKillDisable,
    OomScoreAdj: oomScoreAdj,
    CpuShares: f.cpuShares ? intFlag('--cpu-shares', f.cpuShares, 0) : 0,
    CpusetCpus: f.cpusetCpus ? checkCpuset(f.cpusetCpus) : '',
    PidsLimit: f.pidsLimit !== undefined ? intFlag('--pids-limit', f.pidsLimit, -1) : null,
    Ulimits: (f.ulimit ?? []).map(parseUlimit),
    ShmSize: f.shmSize ? bytesFlag('--shm-size', f.shmSize) : 64 * 1024 * 1024,
    Tmpfs: tmpfs,
    Init: !!f.init,
    IpcMode: ipcMode,
    PidMode: pidMode,
    UTSMode: utsMode,
    Sysctls: sysctls,
    GroupAdd: (f.groupAdd ?? []).map((g) => {
      if (!/^[a-zA-Z0-9_][a-zA-Z0-9_.-]*\$?$/.test(g)) throw new InputError(`--group-add ${g}: not a group name or number`);
      return g;
    }),
    Mounts: mountSpecs,
    LogConfig: logConfig(f.logDriver, f.logOpt ?? []),
    VolumesFrom: (f.volumesFrom ?? []).map((v) => {
      if (!/^[^:]+(:(ro|rw))?$/.test(v)) throw new InputError(`--volumes-from ${v}: want CONTAINER[:ro|rw]`);
      return v;
    }),
    ExtraHosts: (f.addHost ?? []).map((h) => parseAddHost(h, network)),
    Dns: (f.dns ?? []).map((d) => {
      if (!isIP(d.trim())) throw new InputError(`invalid argument ${JSON.stringify(d)} for "--dns" flag: IP address is not correctly formatted: ${d}`);
      return d.trim();
    }),
    DnsSearch: (f.dnsSearch ?? []).map((d) => {
      if (d !== '.' && (d.length > 255 || !/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*\.?$/.test(d))) {
        throw new InputError(`invalid argument ${JSON.stringify(d)} for "--dns-search" flag: ${d} is not a valid domain`);
      }
      return d;
    }),
    DnsOptions: (f.dnsOption ?? []).map((o) => {
      if (!/^[a-z][a-z0-9-]*(:[0-9]+)?$/i.test(o)) throw new InputError(`invalid argument ${JSON.stringify(o)} for "--dns-option" flag: not a resolver option (e.g. ndots:2, edns0)`);
      return o;
    }),
  };
  return { config, hostConfig, mounts };
}

const hostConfigNetwork = (network: string) => (network === 'default' ? 'bridge' : network);

/**
 * --add-host NAME:IP (or NAME=IP, docker 25's form; an IPv6 address may be in brackets) →
 * "NAME:IP" as HostConfig.ExtraHosts keeps it. `host-gateway` is the host seen from the
 * container: its network's gateway, 127.0.0.1 with the host's network, nothing without one.
 */
export function parseAddHost(spec: string, networkMode: string): string {
  const bad = (why: string) => new InputError(`invalid argument ${JSON.stringify(spec)} for "--add-host" flag: ${why}`);
  let i = spec.indexOf('=');
  if (i < 0) i = spec.indexOf(':');
  if (i <= 0) throw bad(`bad format for add-host: ${JSON.stringify(spec)} (want NAME:IP)`);
  const name = spec.slice(0, i);
  let ip = spec.slice(i + 1).trim();
  if (/^\[.*\]$/.test(ip)) ip = ip.slice(1, -1);
  if (!/^[a-zA-Z0-9_]([a-zA-Z0-9_.-]*)$/.test(name)) throw bad(`invalid host name ${JSON.stringify(name)}`);
  if (ip === HOST_GATEWAY) {
    if (networkMode === 'none') throw bad('host-gateway: a container with --network none has no way to the host');
  } else if (!isIP(ip)) {
    throw bad(`invalid IP address in add-host: ${JSON.stringify(ip)}`);
  }
  return `${name}:${ip}`;
}

export function checkCpuset(v: string, flag = '--cpuset-cpus'): string {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new InputError(`${flag} ${v}: invalid list (e.g. 0-2,4)`);
  return v;
}

/** --pid/--ipc/--uts: one of `known` or '' (the container's own); `container:` is not supported. */
function namespaceMode(flag: string, v: string | undefined, known: string[]): string {
  if (v === undefined || v === '') return '';
  if (known.includes(v)) return v;
  if (v.startsWith('container:')) throw new InputError(`${flag} ${v}: joining another container's namespace is not supported (${known.join(', ')})`);
  throw new InputError(`${flag} ${v}: invalid mode (${known.join(', ')})`);
}

/**
 * --sysctl K=V, docker's rule: only namespaced sysctls, the container's own — IPC ones
 * (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) not with --ipc host, net.* not with
 * --network host, kernel.domainname/hostname not with --uts host.
 */
export function parseSysctls(specs: string[], host: { hostNetwork: boolean; hostIpc: boolean; hostUts: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new InputError(`--sysctl ${spec}: want name=value (e.g. net.ipv4.ip_forward=1)`);
    const key = spec.slice(0, eq).trim().replace(/\//g, '.');
    const value = spec.slice(eq + 1);
    const ipc = /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\.[a-z_]+)$/.test(key);
    const net = key.startsWith('net.');
    const uts = key === 'kernel.domainname' || key === 'kernel.hostname';
    if (!ipc && !net && !uts) throw new InputError(`--sysctl ${spec}: sysctl ${JSON.stringify(key)} is not namespaced (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, kernel.domainname)`);
    if (net && host.hostNetwork) throw new InputError(`--sysctl ${spec}: sysctl ${JSON.stringify(key)} is not allowed in the host's network namespace (--network host)`);
    if (ipc && host.hostIpc) throw new InputError(`--sysctl ${spec}: sysctl ${JSON.stringify(key)} is not allowed in the host's IPC namespace (--ipc host)`);
    if (uts && host.hostUts) throw new InputError(`--sysctl ${spec}: sysctl ${JSON.stringify(key)} is not allowed in the host's UTS namespace (--uts host)`);
    if (key === 'kernel.hostname') throw new InputError(`--sysctl ${spec}: use --hostname to set the hostname`);
    out[key] = value;
  }
  return out;
}

/**
 * --log-driver and --log-opt. conmon writes one log format (CRI lines, see README), which
 * serves docker's json-file and local; none keeps no log. max-size is conmon's limit (the log
 * starts afresh past it, docker's single-file rotation); more files are not kept.
 */
export function logConfig(driver: string | undefined, opts: string[]): NonNullable<HostConfig['LogConfig']> {
  const d = driver ?? 'json-file';
  if (!['json-file', 'k8s-file', 'local', 'none'].includes(d)) {
    throw new InputError(`--log-driver ${d}: not available (json-file, local and k8s-file write conmon's log; none keeps none)`);
  }
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    const [k, v] = eq < 0 ? [o, ''] : [o.slice(0, eq), o.slice(eq + 1)];
    if (d === 'none') throw new InputError(`--log-opt ${o}: the none log driver takes no options`);
    if (k === 'max-size') {
      if (bytesFlag('--log-opt max-size', v) <= 0) throw new InputError(`--log-opt ${o}: must be a positive size (e.g. 10m)`);
    } else if (k === 'max-file') {
      if (v !== '1') throw new InputError(`--log-opt ${o}: mydocker keeps one log file (max-file=1)`);
    } else throw new InputError(`--log-opt ${o}: unknown log option (max-size, max-file=1)`);
    config[k] = v;
  }
  return { Type: d === 'none' ? 'none' : 'k8s-file', Config: config };
}

/** --label-file: KEY=VALUE lines, # comments and blank lines skipped. */
function readLabelFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`--label-file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** --security-opt: seccomp=unconfined|FILE, no-new-privileges[:true|false], apparmor=…, label=… */
function checkSecurityOpt(o: string): string {
  const [k = '', v] = o.split(/[=:](.*)/s);
  if (k === 'no-new-privileges') {
    if (v !== undefined && v !== 'true' && v !== 'false') throw new InputError(`--security-opt ${o}: want no-new-privileges[=true|false]`);
    return o;
  }
  if (k === 'seccomp') {
    if (!v) throw new InputError(`--security-opt ${o}: want seccomp=unconfined or seccomp=/path/to/profile.json`);
    return o;
  }
  if (k === 'apparmor' || k === 'label') {
    if (v === 'unconfined' || v === 'disable') return o;
    throw new InputError(`--security-opt ${o}: ${k === 'apparmor' ? 'AppArmor' : 'SELinux'} is not available on this host`);
  }
  throw new InputError(`--security-opt ${o}: unknown option (known: seccomp=, no-new-privileges, apparmor=, label=)`);
}
