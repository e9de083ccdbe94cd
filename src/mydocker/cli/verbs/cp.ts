// `cp [-a] [-L] [-q] SRC DEST`: docker's copy between a container and the host (the work is
// ../../containers/copy.ts).
import { copy, parseEndpoint } from '../../containers/copy.js';
import { humanSize } from '../../units.js';
import { InputError } from '../../errors.js';
import { engineFor, type Globals } from '../globals.js';

export default async function cp(src: string, dst: string, o: { archive?: boolean; followLink?: boolean; quiet?: boolean }, g: Globals): Promise<void> {
  const to = parseEndpoint(dst);
  // As `export`: a tar is no thing to print on a terminal.
  if ('host' in to && to.host === '-' && 'container' in parseEndpoint(src) && process.stdout.isTTY) {
    throw new InputError('cp: refusing to write an archive to a terminal (redirect stdout)');
  }
  const r = await copy(engineFor(g), { src, dst, archive: !!o.archive, followLink: !!o.followLink });
  // docker prints this line only for a person watching (stderr a terminal), and never with -q.
  if (r.to !== null && !o.quiet && process.stderr.isTTY) process.stderr.write(`Successfully copied ${humanSize(r.bytes)} to ${r.to}\n`);
}
