// `create`: a container from an image, not started; prints its id. createFor is run's first
// half too: the image (by --pull's policy), the container, docker's warnings, --cidfile.
import { existsSync, writeFileSync } from 'node:fs';
import { trace } from '../../../trace.js';
import { createContainer } from '../../containers/lifecycle.js';
import type { RunFlags } from '../../containers/options.js';
import type { ContainerRecord } from '../../containers/record.js';
import type { Engine } from '../../engine.js';
import { InputError, MydockerError } from '../../errors.js';
import { parsePullPolicy, resolveRunTarget } from '../../images/resolve.js';
import { engineFor, warn, type Globals } from '../globals.js';

export async function createFor(engine: Engine, imageArg: string, command: string[], o: RunFlags): Promise<ContainerRecord> {
  const pull = parsePullPolicy(o.pull);
  // docker refuses an existing file before anything is made: it may name a running container.
  if (o.cidfile !== undefined && existsSync(o.cidfile)) {
    throw new InputError(`--cidfile ${o.cidfile}: Container ID file found, make sure the other container isn't running or delete ${o.cidfile}`);
  }
  if (o.oomKillDisable && !o.memory) warn("Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.");
  // Held from resolving the image until the record names it: no rmi in between.
  const unhold = await engine.images.hold();
  let record: ContainerRecord;
  try {
    const target = await resolveRunTarget(engine, imageArg, command, pull);
    trace('mydocker: image resolved');
    const created = await createContainer(engine, target.imageRef, target.image, target.command, o);
    record = created.record;
    for (const w of created.warnings) warn(w);
    trace('mydocker: container created');
  } finally {
    unhold();
  }
  if (o.cidfile !== undefined) {
    try {
      writeFileSync(o.cidfile, record.Id, { flag: 'wx', mode: 0o644 });
    } catch (e) {
      throw new MydockerError(`--cidfile ${o.cidfile}: cannot write the container ID (container ${record.Id} was created): ${(e as Error).message}`);
    }
  }
  return record;
}

export default async function (imageArg: string, command: string[], o: RunFlags, g: Globals): Promise<void> {
  const record = await createFor(engineFor(g), imageArg, command, o);
  process.stdout.write(`${record.Id}\n`);
}
