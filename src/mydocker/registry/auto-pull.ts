// `run`/`create` of an image the store lacks: pull it first, as docker does ("Unable to find
// image 'x:latest' locally", then the pull's progress, on stderr) — but only from a registry
// that is reachable here without asking (hosts.ts autoPullAllowed: this machine's own, an
// insecure-listed one, one logged in to). Null when the reference names no such registry.
import type { Engine } from '../engine.js';
import type { Image } from '../images/types.js';

export async function pullForRun(engine: Engine, ref: string, opts: { always?: boolean } = {}): Promise<Image | null> {
  const [{ parseReference, withDefaultTag, familiarString }, { autoPullAllowed, authKey, loadSettings }, { credentialsPath, readCredentials }] = await Promise.all([
    import('../images/reference.js'),
    import('./hosts.js'),
    import('./credentials.js'),
  ]);
  let parsed;
  try {
    parsed = withDefaultTag(parseReference(ref));
  } catch {
    return null;
  }
  const lib = engine.paths.lib;
  const settings = loadSettings(lib);
  const creds = readCredentials(credentialsPath(lib), authKey(parsed.domain));
  // --pull always asks for the registry explicitly; an image merely missing is pulled only
  // from where pulling is allowed here (hosts.ts).
  if (!opts.always && !autoPullAllowed(parsed.domain, settings, creds !== undefined)) return null;
  if (!opts.always) process.stderr.write(`Unable to find image '${familiarString(parsed)}' locally\n`);
  const [{ pullImage }, { transferRenderer }] = await Promise.all([import('./pull.js'), import('./progress.js')]);
  const reporter = transferRenderer(process.stderr);
  try {
    const r = await pullImage(engine.images, ref, { reporter, warn: (l) => void process.stderr.write(`${l}\n`) });
    return engine.images.get(r.id);
  } finally {
    reporter.stop();
  }
}
