// `prune --filter` as docker's: `until=<time>` (RFC 3339, a Unix timestamp, or a duration back
// from now: 24h) keeps what was created after it; `label=K`, `label=K=V` keep only what has the
// label, `label!=K`, `label!=K=V` only what has not. Keys a verb does not take are refused by name.
import { parseTime } from '../containers/logs.js';
import { InputError } from '../errors.js';

export type PruneCandidate = { created: string; labels: Record<string, string> };

export function pruneFilter(filters: string[], keys: string[] = ['until', 'label']): (c: PruneCandidate) => boolean {
  const tests: Array<(c: PruneCandidate) => boolean> = [];
  for (const f of filters) {
    const m = /^([a-z]+)(!?=)(.*)$/s.exec(f);
    if (!m) throw new InputError(`--filter ${f}: want key=value`);
    const [, key = '', op, value = ''] = m;
    if (!keys.includes(key) || (op === '!=' && key !== 'label')) throw new InputError(`--filter ${f}: invalid filter ${JSON.stringify(key + (op === '!=' ? '!' : ''))} (${keys.join(', ')})`);
    if (key === 'until') {
      const t = parseTime(value);
      if (t === null) throw new InputError(`--filter ${f}: not a time (RFC 3339, a Unix timestamp or a duration like 24h)`);
      tests.push((c) => Date.parse(c.created) < t.getTime());
    } else {
      const [k = '', v] = value.split(/=(.*)/s);
      const has = (c: PruneCandidate) => Object.hasOwn(c.labels, k) && (v === undefined || c.labels[k] === v);
      tests.push(op === '!=' ? (c) => !has(c) : has);
    }
  }
  return (c) => tests.every((t) => t(c));
}
