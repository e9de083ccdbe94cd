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
import type { Image } from '../../images/types.js';
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
    if (o.platform !== undefined) await checkPlatform(o.platform, imageArg, target.image);
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

/**
 * --platform: only the host's platform runs here (no emulation); an image of another one is
 * refused by name, as docker refuses a local image that does not match the platform asked for.
 */
async function checkPlatform(arg: string, ref: string, image: Image): Promise<void> {
  const { formatPlatform, hostPlatform, matches, parsePlatform } = await import('../../registry/platform.js');
  const want = parsePlatform(arg);
  const host = hostPlatform();
  if (!matches(want, host)) throw new InputError(`--platform ${arg}: this host runs ${formatPlatform(host)} only (no emulation)`);
  const have = { os: image.config.os, architecture: image.config.architecture, ...(image.config.variant ? { variant: image.config.variant } : {}) };
  if (!matches(want, have)) throw new InputError(`--platform ${arg}: image with reference ${ref} was found but its platform (${formatPlatform(have)}) does not match the specified platform`);
}

export default async function (imageArg: string, command: string[], o: RunFlags, g: Globals): Promise<void> {
  const record = await createFor(engineFor(g), imageArg, command, o);
  process.stdout.write(`${record.Id}\n`);
}
