// `ps`: docker's columns and states, from each container's derived state.
import type { ContainerRecord } from '../../containers/record.js';
import { liveState, type LiveState } from '../../containers/status.js';
import { healthOf, type Health } from '../../containers/health.js';
import { shortId } from '../../containers/store.js';
import type { Engine } from '../../engine.js';
import { InputError } from '../../errors.js';
import { publishedPorts } from '../../network/container.js';
import { displayablePorts } from '../../network/ports.js';
import { engineFor, type Globals } from '../globals.js';
import { ago, alignTable, humanDuration, truncate } from '../output.js';
import { compile } from '../template.js';

export interface PsOptions {
  all?: boolean;
  quiet?: boolean;
  trunc?: boolean;
  format?: string;
  last?: string;
  latest?: boolean;
  filter?: string[];
  size?: boolean;
}

/** docker's STATUS column. */
export function statusText(live: LiveState, now = Date.now(), health?: Health | null): string {
  switch (live.Status) {
    case 'running':
    case 'paused': {
      // docker's "(health: starting)", "(healthy)", "(unhealthy)" while it runs.
      const h = !live.Paused && health ? ` (${health.Status === 'starting' ? 'health: starting' : health.Status})` : '';
      return `Up ${humanDuration(now - Date.parse(live.StartedAt))}${live.Paused ? ' (Paused)' : h}`;
    }
    case 'exited':
      return `Exited (${live.ExitCode}) ${ago(live.FinishedAt, now)}`;
    case 'restarting':
      return `Restarting (${live.ExitCode}) ${ago(live.FinishedAt, now)}`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    default:
      return live.Status.charAt(0).toUpperCase() + live.Status.slice(1);
  }
}

/** The fields a --format template sees, as docker's ps names them. */
export function psRow(engine: Engine, rec: ContainerRecord, noTrunc: boolean, now = Date.now()) {
  const live = liveState(engine, rec);
  const health = healthOf(engine, rec, live.Running && !live.Paused);
  const cmd = [rec.Path, ...rec.Args].join(' ');
  // What is published now (random host ports resolved), from the network hook's state.
  const ports = live.Running ? displayablePorts(rec.Config, publishedPorts(engine, rec.Id)) : '';
  return {
    row: {
      ID: noTrunc ? rec.Id : shortId(rec.Id),
      Image: rec.Config.Image,
      Command: noTrunc ? JSON.stringify(cmd) : JSON.stringify(truncate(cmd, 20)),
      CreatedAt: new Date(rec.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
      RunningFor: ago(rec.Created, now),
      Ports: ports,
      State: live.Status,
      Status: statusText(live, now, health),
      Size: '0B',
      Names: rec.Name,
      Labels: Object.entries(rec.Config.Labels).map(([k, v]) => `${k}=${v}`).join(','),
      Mounts: rec.Mounts.map((m) => m.Name || m.Source).join(','),
      Networks: Object.keys(rec.Networks).join(',') || rec.HostConfig.NetworkMode,
    },
    live,
    health,
  };
}

const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
};

const HEALTH_FILTERS = ['starting', 'healthy', 'unhealthy', 'none'];

const FILTER_KEYS = ['status', 'name', 'id', 'ancestor', 'label', 'health', 'exited', 'before', 'since', 'volume', 'network'];

/**
 * docker's --filter: values of one key are alternatives (status=exited --filter status=created),
 * different keys must all hold. `before`/`since` name a container (by id, prefix or name).
 */
function matcher(engine: Engine, filters: string[]): (rec: ContainerRecord, row: ReturnType<typeof psRow>['row'], health: Health | null, live: LiveState) => boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new InputError(`--filter ${f}: want key=value`);
    const k = f.slice(0, eq);
    const v = f.slice(eq + 1);
    if (!FILTER_KEYS.includes(k)) throw new InputError(`--filter ${f}: unknown filter ${k} (known: ${FILTER_KEYS.join(', ')})`);
    if (k === 'health' && !HEALTH_FILTERS.includes(v)) throw new InputError(`--filter ${f}: Unrecognised filter value for health: ${v} (starting, healthy, unhealthy or none)`);
    if (k === 'exited' && !/^-?\d+$/.test(v)) throw new InputError(`--filter ${f}: the exit code must be a number`);
    byKey.set(k, [...(byKey.get(k) ?? []), v]);
  }
  const createdOf = (ref: string) => Date.parse(engine.containers.read(engine.containers.resolve(ref)).Created);
  const before = byKey.get('before')?.map(createdOf);
  const since = byKey.get('since')?.map(createdOf);
  const one = (k: string, v: string, rec: ContainerRecord, row: ReturnType<typeof psRow>['row'], health: Health | null, live: LiveState): boolean => {
    switch (k) {
      case 'status':
        return row.State === v;
      case 'health':
        return (health?.Status ?? 'none') === v;
      case 'name':
        return rec.Name.includes(v.replace(/^\//, ''));
      case 'id':
        return rec.Id.startsWith(v);
      case 'ancestor':
        return rec.Config.Image === v || rec.ImageId.includes(v);
      case 'label': {
        const [lk = '', lv] = v.split(/=(.*)/s);
        return lk in rec.Config.Labels && (lv === undefined || rec.Config.Labels[lk] === lv);
      }
      case 'exited':
        return live.Status === 'exited' && live.ExitCode === Number(v);
      case 'volume':
        return rec.Mounts.some((m) => m.Name === v || m.Destination === v || m.Source === v);
      case 'network':
        return Object.entries(rec.Networks).some(([name, att]) => name === v || att.NetworkID.startsWith(v)) || rec.HostConfig.NetworkMode === v;
      default:
        return true;
    }
  };
  return (rec, row, health, live) => {
    const created = Date.parse(rec.Created);
    if (before && !before.every((t) => created < t)) return false;
    if (since && !since.every((t) => created > t)) return false;
    for (const [k, vs] of byKey) if (k !== 'before' && k !== 'since' && !vs.some((v) => one(k, v, rec, row, health, live))) return false;
    return true;
  };
}

export default async function (o: PsOptions, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const noTrunc = o.trunc === false;
  const now = Date.now();
  let recs = engine.containers.list();
  let all = !!o.all;
  if (o.latest) {
    recs = recs.slice(0, 1);
    all = true;
  }
  if (o.last !== undefined) {
    if (!/^\d+$/.test(o.last)) throw new InputError(`invalid argument ${JSON.stringify(o.last)} for "-n, --last" flag`);
    recs = recs.slice(0, Number(o.last));
    all = true;
  }
  const match = matcher(engine, o.filter ?? []);
  const rows = recs
    .map((r) => ({ rec: r, ...psRow(engine, r, noTrunc, now) }))
    .filter((x) => all || x.live.Running || x.live.Status === 'restarting' || (o.filter ?? []).some((f) => f.startsWith('status=')))
    .filter((x) => match(x.rec, x.row, x.health, x.live));
  // -s: the writable layer's size and, as "virtual", with the image's (docker's SIZE column).
  if (o.size && !o.quiet) {
    const sizeText = await sizeReader(engine); // loaded only for -s: plain ps stays light
    for (const x of rows) x.row.Size = sizeText(x.rec);
  }
  if (o.quiet) {
    if (rows.length) process.stdout.write(`${rows.map((x) => x.row.ID).join('\n')}\n`);
    return;
  }
  if (o.format === 'json') {
    process.stdout.write(rows.map((x) => `${JSON.stringify(x.row)}\n`).join(''));
    return;
  }
  const fmt = o.format ?? `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${o.size ? '\t{{.Size}}' : ''}`;
  const t = compile(fmt);
  const lines = rows.map((x) => t.exec(x.row));
  if (t.table) {
    process.stdout.write(`${alignTable([t.exec(HEADERS), ...lines])}\n`);
  } else if (lines.length) {
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

async function sizeReader(engine: Engine): Promise<(rec: ContainerRecord) => string> {
  const [{ rootfsDirs }, { treeSize }, { humanSize }] = await Promise.all([import('../../containers/rootfs.js'), import('../../fs/tree-size.js'), import('../../units.js')]);
  return (rec) => {
    const rw = treeSize(rootfsDirs(engine.containers.path(rec.Id)).upper);
    const image = engine.findImage(rec.ImageId);
    return `${humanSize(rw, 3)} (virtual ${humanSize(rw + (image?.size ?? 0), 3)})`;
  };
}
