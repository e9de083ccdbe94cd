// `volume create|ls|rm|inspect|prune`.
import { volumeUsers } from '../../containers/lifecycle.js';
import { parseLabel } from '../../containers/options.js';
import { ConflictError, InputError } from '../../errors.js';
import { parseVolumeOptions } from '../../volumes/driver.js';
import { treeSize } from '../../fs/tree-size.js';
import { humanSize } from '../../units.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { pruneFilter } from '../prune-filter.js';
import { alignTable } from '../output.js';
import { compile } from '../template.js';
import { forEach } from './each.js';

export function create(name: string | undefined, o: { label?: string[]; driver?: string; opt?: string[] }, g: Globals): void {
  const engine = engineFor(g);
  if (o.driver && o.driver !== 'local') throw new InputError(`--driver ${o.driver}: only the local driver is available`);
  const labels = Object.fromEntries((o.label ?? []).map(parseLabel));
  const options = parseVolumeOptions(o.opt ?? []);
  const { volume, created } = engine.volumes.ensure(name ?? '', labels, options);
  // docker: creating an existing volume is fine, unless it asks for other options.
  if (!created && JSON.stringify(volume.Options ?? {}) !== JSON.stringify(options) && Object.keys(options).length) {
    throw new ConflictError(`volume ${volume.Name} already exists with other options`);
  }
  printLines([volume.Name]);
}

export function ls(o: { quiet?: boolean; format?: string }, g: Globals): void {
  const engine = engineFor(g);
  const vols = engine.volumes.list();
  if (o.quiet) return printLines(vols.map((v) => v.Name));
  const t = compile(o.format ?? 'table {{.Driver}}\t{{.Name}}');
  const lines = vols.map((v) => t.exec(v));
  if (t.table) process.stdout.write(`${alignTable([t.exec({ Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Scope: 'SCOPE', Labels: 'LABELS', CreatedAt: 'CREATED' }), ...lines])}\n`);
  else printLines(lines);
}

export async function rm(names: string[], o: { force?: boolean }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  printLines(await forEach(names, (n) => engine.volumes.remove(n, volumeUsers(engine, n), o.force)));
}

export function inspect(names: string[], o: { format?: string }, g: Globals): void {
  const engine = engineFor(g);
  const vols = names.map((n) => engine.volumes.get(n));
  if (o.format) {
    const t = compile(o.format);
    printLines(vols.map((v) => t.exec(v)));
  } else process.stdout.write(`${JSON.stringify(vols, null, 4)}\n`);
}

export function prune(o: { all?: boolean; filter?: string[] }, g: Globals): void {
  const engine = engineFor(g);
  const keep = pruneFilter(o.filter ?? [], ['label']);
  const removed: string[] = [];
  let reclaimed = 0;
  for (const v of engine.volumes.list()) {
    if (!o.all && !v.Anonymous) continue;
    if (!keep({ created: v.CreatedAt, labels: v.Labels })) continue;
    if (volumeUsers(engine, v.Name).length) continue;
    // A bind volume's data is the host directory's: it is not reclaimed (and not deleted).
    const size = v.Options?.o?.split(',').some((x) => x === 'bind' || x === 'rbind') ? 0 : treeSize(v.Mountpoint);
    engine.volumes.remove(v.Name, []);
    removed.push(v.Name);
    reclaimed += size;
  }
  process.stdout.write(`Deleted Volumes:\n${removed.map((r) => `${r}\n`).join('')}\nTotal reclaimed space: ${humanSize(reclaimed)}\n`);
}
