// `inspect [-f TEMPLATE] [--type container|image|volume] NAME…`: a JSON array, or the template
// applied to each object.
import { loadDefaultIfNamed } from '../../images/resolve.js';
import { inspectContainer } from '../../containers/inspect.js';
import type { Engine } from '../../engine.js';
import { InputError, NotFoundError } from '../../errors.js';
import { engineFor, type Globals } from '../globals.js';
import { compile } from '../template.js';

async function find(engine: Engine, ref: string, type: string | undefined): Promise<Record<string, unknown>> {
  if (!type || type === 'container') {
    try {
      return await inspectContainer(engine, engine.containers.read(engine.containers.resolve(ref)));
    } catch (e) {
      if (!(e instanceof NotFoundError) || type === 'container') throw e;
    }
  }
  if (!type || type === 'image') {
    await loadDefaultIfNamed(engine, [ref]);
    if (engine.findImage(ref)) return engine.images.inspect(ref);
    if (type === 'image') throw new NotFoundError('image', ref);
  }
  if (!type || type === 'volume') {
    if (engine.volumes.exists(ref)) return engine.volumes.get(ref) as unknown as Record<string, unknown>;
    if (type === 'volume') throw new NotFoundError('volume', ref);
  }
  if (!type || type === 'network') {
    const { findAnyNetwork, inspectNetwork } = await import('../../network/inspect.js');
    const n = findAnyNetwork(engine, ref);
    if (n) return inspectNetwork(engine, n);
    if (type === 'network') throw new NotFoundError('network', ref);
  }
  if (type && !['container', 'image', 'volume', 'network'].includes(type)) throw new InputError(`--type ${type}: want container, image, volume or network`);
  throw new NotFoundError('object', ref);
}

export default async function (refs: string[], o: { format?: string; type?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const objs: Record<string, unknown>[] = [];
  let failed: unknown;
  for (const r of refs) {
    try {
      objs.push(await find(engine, r, o.type));
    } catch (e) {
      if (failed === undefined) failed = e;
      else process.stderr.write(`mydocker: ${(e as Error).message}\n`);
    }
  }
  if (o.format) {
    const t = compile(o.format);
    if (objs.length) process.stdout.write(objs.map((x) => `${t.exec(x)}\n`).join(''));
  } else {
    process.stdout.write(`${JSON.stringify(objs, null, 4)}\n`);
  }
  if (failed !== undefined) throw failed;
}
