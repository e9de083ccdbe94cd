// `ps [--format table|json] <id> [ps options]`: the container's processes, from its cgroup.
//
// containerd's shim calls `ps --format json <id>` and parses stdout and stderr **combined** as
// a JSON []int of host pids (go-runc Ps), so in json mode nothing but the array may be printed.
// The table mode is runc's: run the host's `ps` (default `-ef`) and keep the header plus the
// lines whose PID column is one of the container's.
import { spawnSync } from 'node:child_process';
import { cgroupManager } from '../../cgroups/index.js';
import { load } from '../../container/lifecycle.js';
import { RuntimeError } from '../../errors.js';
import { store, type Globals } from '../globals.js';

export default function (id: string, psArgs: string[], o: { format: 'table' | 'json' }, g: Globals): void {
  const c = load(store(g), id);
  // A stopped container whose cgroup is already gone simply has no processes (runc: an empty list).
  const pids = cgroupManager(c.state.cgroup).pids();
  if (o.format === 'json') {
    process.stdout.write(`${JSON.stringify(pids)}\n`);
    return;
  }
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new RuntimeError(`ps: ${r.error.message}`);
  if (r.status !== 0) throw new RuntimeError(`ps ${psArgs.join(' ')}: exit status ${r.status}: ${(r.stdout + r.stderr).trim()}`);
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new RuntimeError("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const field = line.trim().split(/\s+/)[pidIndex];
    if (!field || !/^\d+$/.test(field)) throw new RuntimeError(`unable to parse pid: ${JSON.stringify(field ?? '')}`);
    if (wanted.has(Number(field))) out.push(line);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
