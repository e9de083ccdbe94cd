// `export` and `commit`.
import { commitContainer, exportContainer } from '../../containers/snapshot.js';
import { InputError } from '../../errors.js';
import { emitContainer } from '../../events/journal.js';
import { progressRenderer } from '../../images/progress.js';
import { engineFor, printLines, type Globals } from '../globals.js';

export async function exportVerb(ref: string, o: { output?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const id = engine.containers.resolve(ref);
  if (!o.output && process.stdout.isTTY) throw new InputError('export: refusing to write an archive to a terminal (use -o FILE or redirect stdout)');
  const progress = o.output ? await progressRenderer(process.stdout) : undefined;
  try {
    await exportContainer(engine, id, o.output ?? '-', progress);
    emitContainer(engine, 'export', engine.containers.read(id));
  } finally {
    progress?.stop();
  }
}

export async function commit(ref: string, target: string | undefined, o: { author?: string; message?: string; change?: string[]; pause?: boolean }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const id = engine.containers.resolve(ref);
  const progress = await progressRenderer(process.stderr);
  try {
    const image = await commitContainer(engine, id, {
      ...(target ? { ref: target } : {}),
      changes: o.change ?? [],
      ...(o.author ? { author: o.author } : {}),
      ...(o.message ? { message: o.message } : {}),
      pause: o.pause !== false,
      progress,
    });
    progress.stop();
    emitContainer(engine, 'commit', engine.containers.read(id), { comment: o.message ?? '', imageID: image, imageRef: target ?? '', ...(o.author ? { author: o.author } : {}) });
    printLines([image]);
  } finally {
    progress.stop();
  }
}
