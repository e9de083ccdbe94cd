// Image verbs: images (image ls), rmi (image rm), tag, history, image inspect/prune, and the
// archive verbs import, load, save — thin calls on the image store.
import { loadDefaultIfNamed } from '../../images/resolve.js';
import { liveState } from '../../containers/status.js';
import { InputError } from '../../errors.js';
import { emitImage } from '../../events/journal.js';
import { progressRenderer } from '../../images/progress.js';
import { familiarString } from '../../images/reference.js';
import type { Engine } from '../../engine.js';
import { engineFor, printLines, type Globals } from '../globals.js';
import { ago, alignTable, truncate } from '../output.js';
import { humanSize } from '../../units.js';
import { compile } from '../template.js';
import { pruneFilter } from '../prune-filter.js';

const shortImageId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

interface ImagesOptions {
  all?: boolean;
  quiet?: boolean;
  trunc?: boolean;
  digests?: boolean;
  format?: string;
}

export function images(repo: string | undefined, o: ImagesOptions, g: Globals): void {
  const engine = engineFor(g);
  const noTrunc = o.trunc === false;
  const rows: Record<string, string>[] = [];
  const now = Date.now();
  // docker's rule: without -a, intermediate images (untagged, with a child: a build's steps) are not listed.
  const parents = new Set(Object.values(engine.images.index.read().images).map((r) => r.parent));
  for (const img of engine.images.list()) {
    if (!o.all && img.repoTags.length === 0 && parents.has(img.id)) continue;
    const tags = img.repoTags.length ? img.repoTags : ['<none>:<none>'];
    for (const t of tags) {
      const fam = t === '<none>:<none>' ? t : familiarString(t);
      const colon = fam.lastIndexOf(':');
      const repository = fam.slice(0, colon);
      if (repo && repository !== repo && fam !== repo) continue;
      rows.push({
        Repository: repository,
        Tag: fam.slice(colon + 1),
        Digest: img.repoDigests[0]?.split('@')[1] ?? '<none>',
        ID: noTrunc ? img.id : shortImageId(img.id),
        CreatedSince: ago(img.created, now),
        CreatedAt: img.created,
        Size: humanSize(img.size, 3),
      });
    }
  }
  if (o.quiet) return printLines([...new Set(rows.map((r) => r.ID!))]);
  const t = compile(o.format ?? `table {{.Repository}}\t{{.Tag}}${o.digests ? '\t{{.Digest}}' : ''}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`);
  const lines = rows.map((r) => t.exec(r));
  const header = { Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE' };
  if (t.table) process.stdout.write(`${alignTable([t.exec(header), ...lines])}\n`);
  else printLines(lines);
}

/** Who uses an image: docker refuses rmi (without -f) while any container does. */
function inUse(engine: Engine) {
  const recs = engine.containers.list();
  return (imageId: string) => {
    const c = recs.find((r) => r.ImageId === imageId);
    if (!c) return null;
    return { id: c.Id, running: liveState(engine, c).Running };
  };
}

export async function rmi(refs: string[], o: { force?: boolean; prune?: boolean }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  let failed: unknown;
  for (const ref of refs) {
    try {
      printLines(await engine.images.remove(ref, { force: o.force, noPrune: o.prune === false, inUse: inUse(engine) }));
    } catch (e) {
      if (failed === undefined) failed = e;
      else process.stderr.write(`mydocker: ${(e as Error).message}\n`);
    }
  }
  if (failed !== undefined) throw failed;
}

export async function tag(src: string, target: string, _o: unknown, g: Globals): Promise<void> {
  const engine = engineFor(g);
  await loadDefaultIfNamed(engine, [src]);
  await engine.images.tag(src, target);
}

export async function history(ref: string, o: { quiet?: boolean; trunc?: boolean; human?: boolean; format?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  await loadDefaultIfNamed(engine, [ref]);
  const noTrunc = o.trunc === false;
  const now = Date.now();
  const rows = engine.images.history(ref).map((h) => ({
    ID: h.id === '<missing>' ? h.id : noTrunc ? h.id : shortImageId(h.id),
    CreatedSince: h.created ? ago(h.created, now) : '',
    CreatedAt: h.created,
    CreatedBy: noTrunc ? h.createdBy : truncate(h.createdBy, 45),
    Size: humanSize(h.size, 3),
    Comment: h.comment,
  }));
  if (o.quiet) return printLines(rows.map((r) => r.ID));
  const t = compile(o.format ?? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}');
  const lines = rows.map((r) => t.exec(r));
  const header = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };
  if (t.table) process.stdout.write(`${alignTable([t.exec(header), ...lines])}\n`);
  else printLines(lines);
}

export async function inspect(refs: string[], o: { format?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  await loadDefaultIfNamed(engine, refs);
  const objs = refs.map((r) => engine.images.inspect(r));
  if (o.format) {
    const t = compile(o.format);
    printLines(objs.map((x) => t.exec(x)));
  } else process.stdout.write(`${JSON.stringify(objs, null, 4)}\n`);
}

export async function prune(o: { all?: boolean; filter?: string[] }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const keep = pruneFilter(o.filter ?? []);
  const sizes = layerSizes(engine);
  const use = inUse(engine);
  const lines: string[] = [];
  // A build's intermediate images (those with a child) go with their last child, as rmi prunes
  // untagged parents; one already gone that way is skipped.
  const parents = new Set(Object.values(engine.images.index.read().images).map((r) => r.parent));
  for (const img of engine.images.list()) {
    if (use(img.id) || parents.has(img.id)) continue;
    if (!o.all && img.repoTags.length) continue;
    if (!keep({ created: img.created, labels: img.config.config?.Labels ?? {} })) continue;
    if (!engine.findImage(img.id)) continue;
    lines.push(...(await engine.images.remove(img.id, { inUse: use })));
  }
  await engine.images.prune(keepLayers(engine));
  // What went: the layers no longer on disk (a removed image's layer a container uses stays).
  let reclaimed = 0;
  for (const [d, size] of sizes) if (!engine.images.layers.has(d)) reclaimed += size;
  process.stdout.write(`Deleted Images:\n${lines.map((l) => `${l}\n`).join('')}\nTotal reclaimed space: ${humanSize(reclaimed)}\n`);
}

/** Every stored layer's unpacked size, by diff id. */
function layerSizes(engine: Engine): Map<string, number> {
  const out = new Map<string, number>();
  for (const img of engine.images.list()) {
    for (const d of img.config.rootfs.diff_ids) if (!out.has(d) && engine.images.layers.has(d)) out.set(d, engine.images.layers.meta(d).size);
  }
  return out;
}

/** Layers a container still mounts even though its image was force-removed. */
export function keepLayers(engine: Engine): string[] {
  const keep: string[] = [];
  for (const c of engine.containers.list()) {
    const img = engine.findImage(c.ImageId);
    if (img) keep.push(...img.config.rootfs.diff_ids);
  }
  return keep;
}

export async function importVerb(file: string, ref: string | undefined, o: { change?: string[]; message?: string; platform?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  let platform: { os?: string; architecture?: string; variant?: string } | undefined;
  if (o.platform) {
    const [os, architecture, variant] = o.platform.split('/');
    if (!os || !architecture) throw new InputError(`--platform ${o.platform}: want os/arch[/variant], e.g. linux/amd64`);
    platform = { os, architecture, ...(variant ? { variant } : {}) };
  }
  const progress = await progressRenderer(process.stderr);
  try {
    const id = await engine.images.importRootfs(file, { ...(ref ? { ref } : {}), changes: o.change ?? [], ...(o.message ? { message: o.message } : {}), ...(platform ? { platform } : {}), progress });
    progress.stop();
    emitImage(engine, 'import', id, ref ?? id);
    printLines([id]);
  } finally {
    progress.stop();
  }
}

export async function load(o: { input?: string; quiet?: boolean }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  if (!o.input && process.stdin.isTTY) throw new InputError('load: requested load from stdin, but stdin is a terminal (use -i FILE or redirect stdin)');
  const progress = o.quiet ? undefined : await progressRenderer(process.stdout);
  try {
    const lines = await engine.images.load(o.input ?? '-', progress ? { progress } : {});
    progress?.stop();
    for (const l of lines) {
      const m = /^Loaded image(?: ID)?: (.+)$/.exec(l);
      const id = m ? engine.findImage(m[1]!)?.id : undefined;
      if (id) emitImage(engine, 'load', id, m![1]!);
    }
    printLines(lines);
  } finally {
    progress?.stop();
  }
}

export async function save(refs: string[], o: { output?: string }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  if (!o.output && process.stdout.isTTY) throw new InputError('save: refusing to write an archive to a terminal (use -o FILE or redirect stdout)');
  await loadDefaultIfNamed(engine, refs);
  const progress = o.output ? await progressRenderer(process.stdout) : undefined;
  try {
    await engine.images.save(refs, o.output ?? '-', progress ? { progress } : {});
    for (const r of refs) emitImage(engine, 'save', engine.findImage(r)?.id ?? r, r);
  } finally {
    progress?.stop();
  }
}
