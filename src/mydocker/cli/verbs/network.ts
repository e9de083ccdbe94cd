// `network create|ls|inspect|rm|connect|disconnect|prune` and `port`: thin calls on the network
// store (network/store.ts) and the container side (network/container.ts).
import { parseLabel } from '../../containers/options.js';
import { liveState } from '../../containers/status.js';
import { InputError, MydockerError, NotFoundError } from '../../errors.js';
import { parseNetworkOptions } from '../../network/config.js';
import { connect as connectContainer, disconnect as disconnectContainer, publishedPorts } from '../../network/container.js';
import { allNetworks, findAnyNetwork, inspectNetwork, isPseudo, lsRow } from '../../network/inspect.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { alignTable } from '../output.js';
import { compile } from '../template.js';
import { forEach } from './each.js';

interface CreateOptions {
  driver?: string;
  subnet?: string[];
  gateway?: string[];
  ipRange?: string[];
  label?: string[];
  opt?: string[];
  ipv6?: boolean;
  internal?: boolean;
}

function one(flag: string, v: string[] | undefined): string | undefined {
  if (v && v.length > 1) throw new InputError(`${flag}: given ${v.length} times (mydocker networks are IPv4 with one subnet)`);
  return v?.[0];
}

export function create(name: string, o: CreateOptions, g: Globals): void {
  if (o.ipv6) throw new InputError('--ipv6: IPv6 networks are not supported');
  const engine = engineFor(g);
  const { options, mtu } = parseNetworkOptions(o.opt ?? []);
  const net = engine.networks.create({
    name,
    driver: o.driver,
    subnet: one('--subnet', o.subnet),
    gateway: one('--gateway', o.gateway),
    ipRange: one('--ip-range', o.ipRange),
    labels: Object.fromEntries((o.label ?? []).map(parseLabel)),
    options,
    mtu,
    internal: !!o.internal,
  });
  printLines([net.id]);
}

const HEADER = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

function matches(filters: string[], row: Record<string, string>, builtin: boolean, labels: Record<string, string>, fullId: string): boolean {
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new InputError(`--filter ${f}: want key=value`);
    const k = f.slice(0, eq);
    const v = f.slice(eq + 1);
    if (k === 'name' && !row.Name!.includes(v)) return false;
    else if (k === 'id' && !fullId.startsWith(v)) return false;
    else if (k === 'driver' && row.Driver !== v) return false;
    else if (k === 'type' && (v === 'builtin') !== builtin) return false;
    else if (k === 'label') {
      const [lk = '', lv] = v.split(/=(.*)/s);
      if (!(lk in labels) || (lv !== undefined && labels[lk] !== lv)) return false;
    } else if (!['name', 'id', 'driver', 'type', 'label'].includes(k)) throw new InputError(`--filter ${f}: unknown filter ${k} (known: name, id, driver, type, label)`);
  }
  return true;
}

export function ls(o: { quiet?: boolean; format?: string; trunc?: boolean; filter?: string[] }, g: Globals): void {
  const engine = engineFor(g);
  const noTrunc = o.trunc === false;
  const rows = allNetworks(engine)
    .map((n) => ({ n, row: lsRow(n, noTrunc) }))
    .filter(({ n, row }) => matches(o.filter ?? [], row, isPseudo(n) || n.builtin, isPseudo(n) ? {} : n.labels, n.id));
  if (o.quiet) return printLines(rows.map((r) => r.row.ID!));
  const t = compile(o.format ?? 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}');
  const lines = rows.map((r) => t.exec(r.row));
  if (t.table) process.stdout.write(`${alignTable([t.exec(HEADER), ...lines])}\n`);
  else printLines(lines);
}

export async function inspect(refs: string[], o: { format?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const objs: Record<string, unknown>[] = [];
  await forEach(refs, (r) => {
    const n = findAnyNetwork(engine, r);
    if (!n) throw new NotFoundError('network', r);
    objs.push(inspectNetwork(engine, n));
  }).catch((e) => {
    printObjects(objs, o.format);
    throw e;
  });
  printObjects(objs, o.format);
}

function printObjects(objs: Record<string, unknown>[], format?: string): void {
  if (format) {
    const t = compile(format);
    printLines(objs.map((x) => t.exec(x)));
  } else process.stdout.write(`${JSON.stringify(objs, null, 4)}\n`);
}

export async function rm(refs: string[], o: { force?: boolean }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const nameOf = (id: string) => {
    try {
      return engine.containers.read(id).Name;
    } catch {
      return id.slice(0, 12);
    }
  };
  printLines(
    await forEach(refs, (ref) => {
      const pseudo = engine.networks.pseudo().find((p) => p.name === ref || p.id === ref);
      if (pseudo) throw new MydockerError(`${pseudo.name} is a pre-defined network and cannot be removed`);
      let net;
      try {
        net = engine.networks.find(ref);
      } catch (e) {
        // A damaged config: nothing can use it, its file goes.
        if (e instanceof MydockerError && engine.networks.removeDamaged(ref)) return;
        throw e;
      }
      if (!net) {
        if (o.force) return;
        throw new NotFoundError('network', ref);
      }
      engine.networks.remove(net, nameOf);
    }),
  );
}

export function connect(netRef: string, ctrRef: string, o: { ip?: string; alias?: string[] }, g: Globals): void {
  const engine = engineFor(g);
  connectContainer(engine, engine.containers.resolve(ctrRef), netRef, { ip: o.ip, aliases: o.alias });
}

export function disconnect(netRef: string, ctrRef: string, o: { force?: boolean }, g: Globals): void {
  const engine = engineFor(g);
  disconnectContainer(engine, engine.containers.resolve(ctrRef), netRef, !!o.force);
}

export function prune(_o: { force?: boolean }, g: Globals): void {
  const engine = engineFor(g);
  const removed: string[] = [];
  for (const n of engine.networks.list()) {
    if (n.builtin) continue;
    try {
      if (engine.networks.holders(n).length) continue;
      engine.networks.remove(n);
      removed.push(n.name);
    } catch {
      /* in use since we looked */
    }
  }
  if (removed.length) process.stdout.write(`Deleted Networks:\n${removed.map((r) => `${r}\n`).join('')}`);
}

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: what a running container publishes. */
export function port(ctrRef: string, privatePort: string | undefined, _o: unknown, g: Globals): void {
  const engine = engineFor(g);
  const id = engine.containers.resolve(ctrRef);
  const rec = engine.containers.read(id);
  const maps = liveState(engine, rec).Running ? publishedPorts(engine, id) : [];
  maps.sort((a, b) => a.containerPort - b.containerPort || (a.protocol < b.protocol ? -1 : 1) || a.hostPort - b.hostPort);
  if (privatePort === undefined) {
    printLines(maps.map((m) => `${m.containerPort}/${m.protocol} -> ${m.hostIP || '0.0.0.0'}:${m.hostPort}`));
    return;
  }
  const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(privatePort);
  if (!m) throw new InputError(`port ${privatePort}: want PORT[/tcp|udp]`);
  const proto = m[2] ?? 'tcp';
  const found = maps.filter((x) => x.containerPort === Number(m[1]) && x.protocol === proto);
  if (!found.length) throw new MydockerError(`No public port '${m[1]}/${proto}' published for ${rec.Name}`);
  printLines(found.map((x) => `${x.hostIP || '0.0.0.0'}:${x.hostPort}`));
}
