import { list } from '../../container/lifecycle.js';
import { log, store, type Globals } from '../globals.js';
import { writeStdout } from '../stdout.js';

export default function (o: { format: 'table' | 'json'; quiet?: boolean }, g: Globals): void {
  const entries = list(store(g), (_id, e) => log(g, 'warning', e.message));
  if (o.quiet) {
    writeStdout(entries.map((e) => `${e.id}\n`).join(''));
    return;
  }
  if (o.format === 'json') {
    writeStdout(`${JSON.stringify(entries)}\n`);
    return;
  }
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const e of entries) rows.push([e.id, String(e.pid), e.status, e.bundle, e.created, e.owner || 'root']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  writeStdout(rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]! + 3) : c)).join('')).join('\n') + '\n');
}
