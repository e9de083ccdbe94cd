// `top CONTAINER [ps options]`: the host's ps, limited to the container's processes.
import { spawnSync } from 'node:child_process';
import { liveState } from '../../containers/status.js';
import { ConflictError, MydockerError } from '../../errors.js';
import { engineFor, type Globals } from '../globals.js';

export default function (ref: string, psArgs: string[], _o: unknown, g: Globals): void {
  const engine = engineFor(g);
  const id = engine.containers.resolve(ref);
  if (!liveState(engine, engine.containers.read(id)).Running) throw new ConflictError(`container ${id} is not running`);
  const pids = new Set(engine.runtime.pids(id));
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) throw new MydockerError(`ps ${psArgs.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
  const lines = r.stdout.split('\n').filter(Boolean);
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new MydockerError(`ps ${psArgs.join(' ')}: no PID column in its output`);
  const rows = lines.slice(1).filter((l) => pids.has(Number(l.trim().split(/\s+/)[col])));
  process.stdout.write(`${[header, ...rows].join('\n')}\n`);
}
