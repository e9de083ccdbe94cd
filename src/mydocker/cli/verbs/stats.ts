// `stats [-a] [--no-stream] [--no-trunc] [--format] [CONTAINER...]`: docker's live table of
// CPU, memory, network, block I/O and pids, one refresh a second (on a terminal the screen is
// redrawn; elsewhere each table follows the last), or a single table with --no-stream.
import type { ContainerRecord } from '../../containers/record.js';
import { cpuPercent, sampleStats, type StatsSample } from '../../containers/stats.js';
import { shortId } from '../../containers/store.js';
import { liveState } from '../../containers/status.js';
import { engineFor, type Globals } from '../globals.js';
import { alignTable } from '../output.js';
import { bytesSize, humanSize } from '../../units.js';
import { compile } from '../template.js';

export interface StatsOptions {
  all?: boolean;
  stream?: boolean;
  trunc?: boolean;
  format?: string;
}

/** The interval docker's daemon samples at: CPU % is measured over it. */
const INTERVAL_MS = 1000;

const HEADERS = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** The fields a --format template sees, as docker's stats names them. */
export function statsRow(rec: ContainerRecord, given: string, noTrunc: boolean, prev: StatsSample | undefined, cur: StatsSample | null) {
  const s = cur ?? { memUsed: 0, memLimit: 0, netRx: 0, netTx: 0, blkRead: 0, blkWrite: 0, pids: 0 };
  return {
    Container: given,
    ID: noTrunc ? rec.Id : shortId(rec.Id),
    Name: rec.Name,
    CPUPerc: `${(cur ? cpuPercent(prev, cur) : 0).toFixed(2)}%`,
    MemUsage: `${bytesSize(s.memUsed)} / ${bytesSize(s.memLimit)}`,
    MemPerc: `${(s.memLimit ? (s.memUsed / s.memLimit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(s.netRx, 3)} / ${humanSize(s.netTx, 3)}`,
    BlockIO: `${humanSize(s.blkRead, 3)} / ${humanSize(s.blkWrite, 3)}`,
    PIDs: String(s.pids),
  };
}

export default async function (refs: string[], o: StatsOptions, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const stream = o.stream !== false;
  const noTrunc = o.trunc === false;
  const template = compile(o.format ?? 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}');
  // Named containers are resolved once (an unknown one is an error before anything prints);
  // without names, the set is re-read at every refresh, so containers come and go as in docker.
  const named = refs.map((r) => ({ id: engine.containers.resolve(r), given: r }));
  const targets = () => {
    if (named.length) return named.flatMap((n) => {
      try {
        return [{ rec: engine.containers.read(n.id), given: n.given }];
      } catch {
        return []; // removed meanwhile
      }
    });
    return engine.containers
      .list()
      .filter((rec) => o.all || liveState(engine, rec).Running)
      .map((rec) => ({ rec, given: shortId(rec.Id) }));
  };
  const render = (rows: ReturnType<typeof statsRow>[]) => {
    const lines = rows.map((r) => template.exec(r));
    if (template.table) return `${alignTable([template.exec(HEADERS), ...lines])}\n`;
    return lines.length ? `${lines.join('\n')}\n` : '';
  };

  let prev = new Map<string, StatsSample>();
  const sample = () => {
    const next = new Map<string, StatsSample>();
    const rows = targets().map(({ rec, given }) => {
      const cur = sampleStats(engine, rec);
      if (cur) next.set(rec.Id, cur);
      return statsRow(rec, given, noTrunc, prev.get(rec.Id), cur);
    });
    prev = next;
    return rows;
  };

  // The first figures need a second sample: CPU % is a rate.
  sample();
  await new Promise((r) => setTimeout(r, INTERVAL_MS));
  if (!stream) {
    process.stdout.write(render(sample()));
    return;
  }
  const tty = process.stdout.isTTY;
  for (;;) {
    const text = render(sample());
    process.stdout.write(tty ? `\x1b[2J\x1b[H${text}` : text);
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
  }
}
