// `mydocker build`: docker's classic builder. Each stage starts FROM an image (or scratch, or
// an earlier stage); each instruction after it makes a new image on the previous one —
// RUN, COPY, ADD and WORKDIR through a step container (steps.ts), the others by config only
// (docker's empty_layer) — and is looked up in the build cache first (cache.ts). The images
// of the steps stay in the store, untagged, as docker's intermediate images: they are the
// cache, `images -a` lists them, and `rmi` of the final image takes its untagged parents.
//
// The image config is docker's: Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts,
// Labels, Volumes, StopSignal, Shell; history entries are the classic builder's
// ("/bin/sh -c #(nop)  CMD [\"sh\"]", "|1 A=b /bin/sh -c make", "… COPY dir:<hash> in /app ").
import { applyChange } from '../images/config-changes.js';
import type { Readable } from 'node:stream';
import { posix } from 'node:path';
import { closeSync, createReadStream, lstatSync, readlinkSync } from 'node:fs';
import { O_CLOEXEC, O_DIRECTORY, O_PATH, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, openat2 } from '../../kernel/at.js';
import { resolveInRoot } from '../../rootfs/safe-path.js';
import { throughTar } from '../containers/copy.js';
import { parseExpose, parseStopSignal } from '../containers/options.js';
import { resolveUser } from '../containers/users.js';
import type { Engine } from '../engine.js';
import { InputError, NotFoundError } from '../errors.js';
import { decompressor, detectCompression, peek } from '../images/compression.js';
import { extractTree } from '../images/extract.js';
import { familiarString, formatReference, normalize } from '../images/reference.js';
import { hostPlatform } from '../images/manifest.js';
import { readTar } from '../images/tar.js';
import { packItem } from '../images/tree-tar.js';
import type { Image, ImageRunConfig } from '../images/types.js';
import { humanSize } from '../units.js';
import { BuildCache, cacheKey } from './cache.js';
import { BuildContext, hashSources, type Source } from './context.js';
import { DockerfileError, parseDockerfile, type Instruction, type Stage } from './dockerfile.js';
import { processWord, processWords, rawWords, unquotedEquals, type Lookup } from './shell-words.js';
import { BuildInterrupted, commitStep, ensureDir, RunFailedError, runToExit, withStepContainer, withStepRootfs } from './steps.js';

export { BuildInterrupted, RunFailedError } from './steps.js';

export interface BuildOptions {
  /** The context directory; null for none (`build -`). */
  context: string | null;
  dockerfile: string;
  /** Normalized or not: `app`, `app:1`, `127.0.0.1:5000/x:y`. */
  tags: string[];
  /** --build-arg K=V (K alone: the value of K in our environment, when set). */
  buildArgs: Map<string, string>;
  noCache: boolean;
  labels: [string, string][];
  target?: string;
  /** RUN's network: bridge (docker's default), none, host or a network name. */
  network: string;
  /** Progress lines (docker's classic output); quiet when absent. */
  progress?: (text: string) => void;
  /** A RUN's output as it comes (stdout and stderr). */
  runOutput?: (data: Buffer) => void;
  signal: AbortSignal;
}

export interface BuildResult {
  id: string;
  /** Build args no ARG declared (docker's warning). */
  unusedArgs: string[];
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_NAMES = new Set(['busybox', 'busybox:latest', 'library/busybox', 'library/busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest']);
const shortOf = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
/** Go's %q of a []string, as docker writes CMD/ENTRYPOINT/VOLUME/SHELL in history. */
const goList = (l: string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;

interface StageState {
  stage: Stage;
  /** The current image; null after FROM scratch until a step makes one. */
  image: Image | null;
  config: ImageRunConfig;
  /** ARGs declared in this stage and their values (undefined: declared without one). */
  args: Map<string, string | undefined>;
  /** A CMD was given in this stage (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

/** docker's words for an instruction's error: which line, which instruction. */
function at(ins: Instruction, msg: string): InputError {
  return new InputError(`Dockerfile line ${ins.line}: ${ins.cmd}: ${msg}`);
}

function envGet(env: string[] | undefined, name: string): string | undefined {
  const e = (env ?? []).find((x) => x.startsWith(`${name}=`));
  return e === undefined ? undefined : e.slice(name.length + 1);
}

function envSet(env: string[] | undefined, name: string, value: string): string[] {
  const out = [...(env ?? [])];
  const i = out.findIndex((x) => x.startsWith(`${name}=`));
  if (i === -1) out.push(`${name}=${value}`);
  else out[i] = `${name}=${value}`;
  return out;
}

/** KEY=VALUE pairs of ENV/LABEL (or the one-pair legacy form `ENV KEY some value`), substituted. */
function keyValues(ins: Instruction, lookup: Lookup, escape: string): [string, string][] {
  const words = rawWords(ins.args, escape);
  if (words.length === 0) throw at(ins, 'requires at least one argument');
  if (unquotedEquals(words[0]!, escape) === -1) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(ins.args);
    if (!m) throw at(ins, `${words[0]} must have two arguments (${ins.cmd} KEY VALUE or ${ins.cmd} KEY=VALUE …)`);
    return [[processWord(m[1]!, lookup, escape), processWord(m[2]!.trim(), lookup, escape)]];
  }
  return words.map((w) => {
    const i = unquotedEquals(w, escape);
    if (i <= 0) throw at(ins, `${JSON.stringify(w)} is not KEY=VALUE (mixing the KEY VALUE and KEY=VALUE forms?)`);
    return [processWord(w.slice(0, i), lookup, escape), processWord(w.slice(i + 1), lookup, escape)];
  });
}

/** Whether a context file is a tar archive ADD unpacks (plain, gzip, bzip2, xz or zstd). */
async function isArchive(path: string): Promise<boolean> {
  let stream: Readable | undefined;
  try {
    const first = await peek(createReadStream(path), 6);
    stream = first.stream;
    const kind = detectCompression(first.head);
    let body: Readable = first.stream;
    if (kind !== 'none') {
      const dec = decompressor(kind, path);
      first.stream.on('error', (e) => dec.destroy(e));
      first.stream.pipe(dec);
      body = dec;
    }
    const { head } = await peek(body, 512);
    body.destroy();
    // A ustar (or GNU) header: "ustar" at offset 257.
    return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } catch {
    return false;
  } finally {
    stream?.destroy();
  }
}

/** The archive's entries (decompressed as needed). */
async function archiveStream(path: string): Promise<Readable> {
  const { head, stream } = await peek(createReadStream(path), 6);
  const kind = detectCompression(head);
  if (kind === 'none') return stream;
  const dec = decompressor(kind, path);
  stream.on('error', (e) => dec.destroy(e));
  stream.pipe(dec);
  return dec;
}

export class Builder {
  private readonly cache: BuildCache;
  private readonly ctx: BuildContext;
  private step = 0;
  private total = 0;
  private escape = '\\';
  private readonly stages = new Map<string, Image | null>();
  private readonly stageList: (Image | null)[] = [];
  private readonly metaArgs = new Map<string, string | undefined>();
  private readonly usedArgs = new Set<string>();

  constructor(
    private readonly engine: Engine,
    private readonly o: BuildOptions,
  ) {
    this.cache = new BuildCache(engine);
    this.ctx = BuildContext.open(o.context);
  }

  private say(text: string): void {
    this.o.progress?.(text);
  }

  private checkAbort(): void {
    if (this.o.signal.aborted) throw new BuildInterrupted(String(this.o.signal.reason));
  }

  async build(): Promise<BuildResult> {
    try {
      return await this.buildAll();
    } finally {
      this.ctx.close();
    }
  }

  private async buildAll(): Promise<BuildResult> {
    const df = parseDockerfile(this.o.dockerfile);
    this.escape = df.escape;
    // Tags are checked before anything is built (docker refuses a bad -t at once).
    const tags = this.o.tags.map((t) => {
      const r = normalize(t);
      if (r.digest !== undefined) throw new InputError(`invalid tag ${JSON.stringify(t)}: a digest cannot name a built image`);
      return formatReference(r);
    });
    let stages = df.stages;
    if (this.o.target !== undefined) {
      const i = stages.findIndex((s) => s.name === this.o.target!.toLowerCase());
      if (i < 0) throw new InputError(`failed to reach build target ${this.o.target} in Dockerfile`);
      stages = stages.slice(0, i + 1);
    }
    // --label: a LABEL step at the end of the target stage, as docker adds it.
    const last = stages[stages.length - 1]!;
    if (this.o.labels.length) {
      const sq = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
      const args = this.o.labels.map(([k, v]) => `${sq(k)}=${sq(v)}`).join(' ');
      last.instructions = [...last.instructions, { cmd: 'LABEL', line: 0, original: `LABEL ${this.o.labels.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ')}`, flags: {}, args, json: null }];
    }
    this.total = stages.reduce((n, s) => n + 1 + s.instructions.length, 0);

    // Global ARGs: their values for FROM lines (and for a stage's `ARG NAME` without a value).
    for (const ins of df.metaArgs) this.declareArgs(ins, (n) => this.metaArgs.get(n), this.metaArgs);

    if (this.o.context !== null) this.say(`Sending build context to Docker daemon  ${humanSize(this.ctx.size())}\n`);
    let image: Image | null = null;
    for (const stage of stages) {
      this.checkAbort();
      image = await this.buildStage(stage);
      this.stageList.push(image);
      if (stage.name) this.stages.set(stage.name, image);
    }
    // A build that made nothing (FROM scratch alone) has no image: docker says so too.
    if (!image) throw new InputError('No image was generated. Is your Dockerfile empty?');
    for (const t of tags) await this.engine.images.tag(image.id, t);
    const unusedArgs = [...this.o.buildArgs.keys()].filter((k) => !this.usedArgs.has(k));
    if (unusedArgs.length) this.say(`[Warning] One or more build-args [${unusedArgs.join(' ')}] were not consumed\n`);
    this.say(`Successfully built ${shortOf(image.id)}\n`);
    for (const t of tags) this.say(`Successfully tagged ${familiarString(t)}\n`);
    return { id: image.id, unusedArgs };
  }

  /** ARG NAME[=default] …: their values, into `into`. */
  private declareArgs(ins: Instruction, lookup: Lookup, into: Map<string, string | undefined>): string[] {
    const declared: string[] = [];
    for (const w of rawWords(ins.args, this.escape)) {
      const i = unquotedEquals(w, this.escape);
      const name = i === -1 ? w : w.slice(0, i);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw at(ins, `invalid name ${JSON.stringify(name)}`);
      const def = i === -1 ? undefined : processWord(w.slice(i + 1), lookup, this.escape);
      this.usedArgs.add(name);
      const value = this.o.buildArgs.has(name) ? this.o.buildArgs.get(name) : (def ?? (into !== this.metaArgs ? this.metaArgs.get(name) : undefined));
      into.set(name, value);
      declared.push(i === -1 ? name : `${name}=${def}`);
    }
    return declared;
  }

  private header(ins: Instruction): void {
    this.step++;
    this.say(`Step ${this.step}/${this.total} : ${ins.original}\n`);
  }

  private async buildStage(stage: Stage): Promise<Image | null> {
    this.header(stage.from);
    const base = processWord(stage.base, (n) => this.metaArgs.get(n), this.escape);
    const platform = stage.from.flags.platform;
    if (platform !== undefined) {
      const host = hostPlatform();
      if (platform.replace(/^linux\//, '') !== host.architecture && platform !== `${host.os}/${host.architecture}`) {
        throw at(stage.from, `--platform=${platform}: only the host's platform (linux/${host.architecture}) can be built here`);
      }
    }
    let image: Image | null;
    if (base.toLowerCase() === 'scratch') {
      image = null;
      this.say(' ---> \n');
    } else if (this.stages.has(base.toLowerCase())) {
      image = this.stages.get(base.toLowerCase())!;
      this.say(` ---> ${image ? shortOf(image.id) : ''}\n`);
    } else {
      image = await this.baseImage(base, stage.from);
      this.say(` ---> ${shortOf(image.id)}\n`);
    }
    const st: StageState = { stage, image, config: structuredClone(image?.config.config ?? {}), args: new Map(), cmdSet: false };
    for (const ins of stage.instructions) {
      this.checkAbort();
      this.header(ins);
      await this.dispatch(st, ins);
    }
    return st.image;
  }

  /** FROM's image: in the store, the embedded busybox, or pulled where a registry is reachable without asking. */
  private async baseImage(ref: string, ins: Instruction): Promise<Image> {
    const found = this.engine.findImage(ref) ?? (DEFAULT_NAMES.has(ref) ? await this.engine.images.ensureDefault() : null);
    if (found) return found;
    const pulled = await (await import('../registry/auto-pull.js')).pullForRun(this.engine, ref);
    if (pulled) return pulled;
    throw new NotFoundError('image', `${ref}${ref.includes(':') || ref.includes('@') ? '' : ':latest'} (FROM on line ${ins.line}: not in the image store; load, import or pull it first)`);
  }

  private lookup(st: StageState): Lookup {
    return (name) => {
      const e = envGet(st.config.Env, name);
      if (e !== undefined) return e;
      return st.args.get(name);
    };
  }

  private shell(st: StageState): string[] {
    return st.config.Shell?.length ? st.config.Shell : DEFAULT_SHELL;
  }

  /** docker's history text for a config-only step: "<shell> #(nop)  CMD [...]". */
  private nop(st: StageState, text: string): string {
    return [...this.shell(st), '#(nop) ', text].join(' ');
  }

  private async dispatch(st: StageState, ins: Instruction): Promise<void> {
    const lookup = this.lookup(st);
    const esc = this.escape;
    const next: ImageRunConfig = structuredClone(st.config);
    switch (ins.cmd) {
      case 'RUN':
        return this.run(st, ins);
      case 'COPY':
      case 'ADD':
        return this.copy(st, ins);
      case 'WORKDIR': {
        const dir = processWord(ins.args, lookup, esc);
        if (dir === '') throw at(ins, 'requires a path');
        next.WorkingDir = posix.resolve(st.config.WorkingDir || '/', dir);
        const text = [...this.shell(st), `#(nop) WORKDIR ${next.WorkingDir}`].join(' ');
        return this.containerStep(st, next, text, async (rootFd) => {
          closeSync(ensureDir(rootFd, next.WorkingDir!, null, `WORKDIR ${next.WorkingDir}`));
        });
      }
      case 'ENV': {
        const pairs = keyValues(ins, lookup, esc);
        for (const [k, v] of pairs) {
          if (k === '') throw at(ins, 'empty variable name');
          next.Env = envSet(next.Env, k, v);
        }
        return this.configStep(st, next, this.nop(st, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`));
      }
      case 'LABEL': {
        const pairs = keyValues(ins, lookup, esc);
        next.Labels = { ...(next.Labels ?? {}) };
        for (const [k, v] of pairs) {
          if (k === '') throw at(ins, 'empty label name');
          next.Labels[k] = v;
        }
        return this.configStep(st, next, this.nop(st, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`));
      }
      case 'ARG': {
        const declared = this.declareArgs(ins, lookup, st.args);
        return this.configStep(st, next, this.nop(st, `ARG ${declared.join(' ')}`));
      }
      case 'CMD':
      case 'ENTRYPOINT': {
        const argv = ins.json ?? [...this.shell(st), ins.args];
        if (ins.cmd === 'CMD') {
          next.Cmd = argv;
          st.cmdSet = true;
        } else {
          next.Entrypoint = argv;
          // docker: an ENTRYPOINT drops a CMD inherited from the base image, not one set in this stage.
          if (!st.cmdSet) next.Cmd = null;
        }
        return this.configStep(st, next, this.nop(st, `${ins.cmd} ${goList(argv)}`));
      }
      case 'EXPOSE': {
        const ports = processWords(ins.args, lookup, esc);
        next.ExposedPorts = { ...(next.ExposedPorts ?? {}) };
        for (const p of ports) {
          let keys: string[];
          try {
            keys = parseExpose(p.toLowerCase());
          } catch {
            throw at(ins, `invalid containerPort: ${p}`);
          }
          for (const k of keys) next.ExposedPorts[k] = {};
        }
        return this.configStep(st, next, this.nop(st, `EXPOSE ${ports.join(' ')}`));
      }
      case 'USER': {
        const user = processWord(ins.args, lookup, esc);
        if (user === '' || /\s/.test(user)) throw at(ins, 'requires exactly one argument (user[:group])');
        next.User = user;
        return this.configStep(st, next, this.nop(st, `USER ${user}`));
      }
      case 'VOLUME': {
        const vols = ins.json ? ins.json.map((v) => processWord(v, lookup, esc)) : processWords(ins.args, lookup, esc);
        if (vols.length === 0 || vols.some((v) => v.trim() === '')) throw at(ins, 'VOLUME specified can not be an empty string');
        next.Volumes = { ...(next.Volumes ?? {}) };
        for (const v of vols) next.Volumes[v] = {};
        return this.configStep(st, next, this.nop(st, `VOLUME ${goList(vols)}`));
      }
      case 'STOPSIGNAL': {
        const sig = processWord(ins.args, lookup, esc);
        try {
          parseStopSignal('STOPSIGNAL', sig);
        } catch {
          throw at(ins, `invalid signal: ${sig}`);
        }
        next.StopSignal = sig;
        return this.configStep(st, next, this.nop(st, `STOPSIGNAL ${sig}`));
      }
      case 'SHELL': {
        if (!ins.json || ins.json.length === 0) throw at(ins, 'SHELL requires the arguments to be in JSON form');
        next.Shell = ins.json;
        return this.configStep(st, next, this.nop(st, `SHELL ${goList(ins.json)}`));
      }
      case 'MAINTAINER':
        return this.configStep(st, next, this.nop(st, `MAINTAINER ${ins.args}`));
      case 'HEALTHCHECK': {
        // The Dockerfile's syntax is commit -c's (config-changes.ts); no variable substitution, as docker.
        const change = ['HEALTHCHECK', ...Object.entries(ins.flags).map(([k, v]) => `--${k}=${v}`), ins.args].join(' ');
        try {
          next.Healthcheck = applyChange(next, change).Healthcheck;
        } catch (e) {
          throw at(ins, (e as Error).message.replace(`--change ${JSON.stringify(change)}: `, ''));
        }
        return this.configStep(st, next, this.nop(st, change));
      }
      case 'ONBUILD':
        throw at(ins, 'not supported by mydocker build');
      default:
        throw new DockerfileError(`Dockerfile parse error line ${ins.line}: unknown instruction: ${ins.cmd}`);
    }
  }

  /** Print the step's result and move the stage to it. */
  private advance(st: StageState, id: string, config: ImageRunConfig, cached: boolean): void {
    if (cached) this.say(' ---> Using cache\n');
    this.say(` ---> ${shortOf(id)}\n`);
    st.image = this.engine.images.get(id);
    st.config = structuredClone(config);
  }

  private cached(key: string): string | null {
    return this.o.noCache ? null : this.cache.lookup(key);
  }

  private parentKey(st: StageState): string {
    return st.image?.id ?? 'scratch';
  }

  /** A config-only step (ENV, CMD, …): one new image, no container. */
  private async configStep(st: StageState, next: ImageRunConfig, createdBy: string): Promise<void> {
    const key = cacheKey(this.parentKey(st), `${createdBy}\n${JSON.stringify(next)}`);
    const hit = this.cached(key);
    if (hit) return this.advance(st, hit, next, true);
    const id = await this.engine.images.commitConfig({ parent: st.image, config: next, createdBy });
    await this.cache.record(key, id);
    this.advance(st, id, next, false);
  }

  /** The stage's image, made for FROM scratch when a step needs a container: an empty one (cached, so it is the same image each time). */
  private async ensureImage(st: StageState): Promise<Image> {
    if (st.image) return st.image;
    const key = cacheKey('scratch', `base\n${JSON.stringify(st.config)}`);
    let id = this.cache.lookup(key);
    if (!id) {
      id = await this.engine.images.commitConfig({ parent: null, config: st.config, createdBy: null });
      await this.cache.record(key, id);
    }
    st.image = this.engine.images.get(id);
    return st.image;
  }

  /**
   * A step that writes into the rootfs without running anything (COPY, ADD, WORKDIR): a
   * created step container, `write` on its mounted rootfs, committed.
   */
  private async containerStep(st: StageState, next: ImageRunConfig, createdBy: string, write: (rootFd: number, merged: string) => Promise<void>, keyExtra = ''): Promise<void> {
    const key = cacheKey(this.parentKey(st), `${createdBy}\n${keyExtra}\n${JSON.stringify(next)}`);
    const hit = this.cached(key);
    if (hit) return this.advance(st, hit, next, true);
    const image = await this.ensureImage(st);
    const id = await withStepContainer(this.engine, image, [...this.shell(st), createdBy], { network: 'none', entrypoint: '' }, false, async (cid) => {
      await withStepRootfs(this.engine, cid, write);
      return commitStep(this.engine, cid, image, next, createdBy);
    });
    await this.cache.record(key, id);
    this.advance(st, id, next, false);
  }

  private async run(st: StageState, ins: Instruction): Promise<void> {
    const argv = ins.json ?? [...this.shell(st), ins.args];
    // The stage's ARGs are the RUN's environment (an ENV of the same name wins), and docker
    // records them in the history ("|2 A=1 B=2 /bin/sh -c …"), which also keys the cache.
    const args = [...st.args].filter(([k, v]) => v !== undefined && envGet(st.config.Env, k) === undefined).map(([k, v]) => `${k}=${v}`).sort();
    const createdBy = args.length ? `|${args.length} ${args.join(' ')} ${argv.join(' ')}` : argv.join(' ');
    const key = cacheKey(this.parentKey(st), `RUN\n${createdBy}\n${JSON.stringify(st.config)}`);
    const hit = this.cached(key);
    if (hit) return this.advance(st, hit, st.config, true);
    const image = await this.ensureImage(st);
    const config = st.config;
    let cid = '';
    const id = await withStepContainer(this.engine, image, argv, { network: this.o.network, entrypoint: '', env: args }, true, async (c) => {
      cid = c;
      this.say(` ---> Running in ${shortOf(c)}\n`);
      const code = await runToExit(this.engine, c, (d) => this.o.runOutput?.(d), this.o.signal);
      if (code !== 0) throw new RunFailedError(argv.join(' '), code);
      return commitStep(this.engine, c, image, config, createdBy);
    });
    this.say(`Removing intermediate container ${shortOf(cid)}\n`);
    await this.cache.record(key, id);
    this.advance(st, id, config, false);
  }

  /** The image COPY --from names: a stage (by name or index) or an image. */
  private async fromImage(ins: Instruction, ref: string): Promise<Image> {
    const lower = ref.toLowerCase();
    if (this.stages.has(lower)) {
      const img = this.stages.get(lower);
      if (!img) throw at(ins, `--from=${ref}: that stage made no image (FROM scratch alone)`);
      return img;
    }
    if (/^\d+$/.test(ref)) {
      const n = Number(ref);
      if (n >= this.stageList.length) throw at(ins, `--from=${ref}: invalid stage index (only ${this.stageList.length} earlier stage(s))`);
      const img = this.stageList[n];
      if (!img) throw at(ins, `--from=${ref}: that stage made no image (FROM scratch alone)`);
      return img;
    }
    return this.baseImage(ref, ins);
  }

  private async copy(st: StageState, ins: Instruction): Promise<void> {
    const lookup = this.lookup(st);
    const esc = this.escape;
    const what = ins.cmd;
    const words = ins.json ? ins.json.map((w) => processWord(w, lookup, esc)) : processWords(ins.args, lookup, esc);
    if (words.length < 2) throw at(ins, `${what} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    const rawSources = words.slice(0, -1);
    const dest = words[words.length - 1]!;
    const destAbs = posix.resolve(st.config.WorkingDir || '/', dest);
    const destIsDirSyntax = dest.endsWith('/') || dest === '.' || dest.endsWith('/.');
    const chown = ins.flags.chown !== undefined ? processWord(ins.flags.chown, lookup, esc) : undefined;
    for (const s of rawSources) {
      if (/^[a-z]+:\/\//i.test(s)) {
        if (what === 'COPY') throw at(ins, `source can't be a URL for COPY: ${s}`);
        throw at(ins, `${s}: ADD from a URL is not supported here (mydocker build has no network access; put the file in the context)`);
      }
    }
    if (ins.flags.from !== undefined) return this.copyFrom(st, ins, rawSources, destAbs, destIsDirSyntax, chown);

    const sources: Source[] = rawSources.flatMap((s) => this.ctx.resolve(s, what));
    if (sources.length > 1 && !destIsDirSyntax) throw at(ins, `When using ${what} with more than one source file, the destination must be a directory and end with a /`);
    const archives = new Set<Source>();
    if (what === 'ADD') {
      for (const s of sources) if (s.st.isFile() && (await isArchive(`/proc/self/fd/${s.parentFd}/${s.name}`))) archives.add(s);
    }
    const hash = await hashSources(sources.map((s, i) => ({ s, prefix: `${i}-${s.name === '.' ? 'context' : s.name}` })));
    const kind = sources.length > 1 ? 'multi' : sources[0]!.st.isDirectory() ? 'dir' : 'file';
    const createdBy = [...this.shell(st), `#(nop) ${what} ${chown ? `--chown=${chown} ` : ''}${kind}:${hash} in ${destAbs}${destIsDirSyntax ? '/' : ''} `].join(' ');
    await this.containerStep(
      st,
      st.config,
      createdBy,
      (rootFd, merged) => this.place(ins, rootFd, merged, sources, archives, destAbs, destIsDirSyntax, chown, `${what} ${rawSources.join(' ')}`),
      hash,
    );
  }

  /**
   * Write sources into a step container's rootfs, with docker's COPY rules: into DEST as a
   * directory (a directory source's contents, a file under its own name), or — one file and a
   * DEST that is not a directory — as DEST. Missing directories of DEST are made (owned by
   * --chown's user, else root); everything copied is owned by --chown's user, else root.
   */
  private async place(
    ins: Instruction,
    rootFd: number,
    merged: string,
    sources: Source[],
    archives: Set<Source>,
    destAbs: string,
    destIsDirSyntax: boolean,
    chown: string | undefined,
    what: string,
  ): Promise<void> {
    const owner = chown !== undefined ? this.owner(ins, merged, chown) : { uid: 0, gid: 0 };
    const single = sources.length === 1 ? sources[0]! : null;
    let dir = destAbs;
    let fileName: string | null = null;
    if (single && !destIsDirSyntax && !single.st.isDirectory() && !archives.has(single)) {
      const existing = resolveInRoot(rootFd, destAbs);
      const isDir = existing !== null && lstatSync(`/proc/self/fd/${existing}`).isDirectory();
      if (existing !== null) closeSync(existing);
      if (!isDir) {
        dir = posix.dirname(destAbs);
        fileName = posix.basename(destAbs);
      }
    }
    const dirFd = ensureDir(rootFd, dir, chown !== undefined ? owner : null, `${ins.cmd} to ${destAbs}`);
    try {
      const into = `/proc/self/fd/${dirFd}`;
      const plain = sources.filter((s) => !archives.has(s));
      if (plain.length) {
        await throughTar(
          async (pack) => {
            for (const s of plain) {
              const prefix = s.st.isDirectory() ? '' : (fileName ?? s.name);
              await packItem(s.parentFd, s.name, pack, { prefix, omit: s.omit, what: s.rel || '.' });
            }
          },
          (tar) => extractTree(readTar(tar, what), into, `${ins.cmd} failed`, { copy: true, owner }),
        );
      }
      // ADD unpacks local archives into DEST, keeping their owners (as docker's Untar).
      for (const s of archives) {
        const path = `/proc/self/fd/${s.parentFd}/${s.name}`;
        await extractTree(readTar(await archiveStream(path), `${ins.cmd} ${s.rel}`), into, `${ins.cmd} ${s.rel}`, { copy: true });
      }
    } finally {
      closeSync(dirFd);
    }
  }

  /** --chown=user[:group], resolved in the image's /etc/passwd and /etc/group; a user alone is also the group (docker's rule). */
  private owner(ins: Instruction, merged: string, spec: string): { uid: number; gid: number } {
    try {
      const u = resolveUser(merged, spec, '--chown');
      return { uid: u.uid, gid: spec.includes(':') ? u.gid : /^\d+$/.test(spec) ? u.uid : u.gid };
    } catch (e) {
      throw at(ins, (e as Error).message);
    }
  }

  /** COPY --from: sources read from another stage's or image's rootfs (symlinks resolved inside it). */
  private async copyFrom(st: StageState, ins: Instruction, rawSources: string[], destAbs: string, destIsDirSyntax: boolean, chown: string | undefined): Promise<void> {
    const fromRef = ins.flags.from!;
    const src = await this.fromImage(ins, fromRef);
    if (rawSources.length > 1 && !destIsDirSyntax) throw at(ins, 'When using COPY with more than one source file, the destination must be a directory and end with a /');
    for (const s of rawSources) if (/[*?[]/.test(s)) throw at(ins, `--from with a wildcard source (${s}) is not supported by mydocker build`);
    const createdBy = [...this.shell(st), `#(nop) COPY ${chown ? `--chown=${chown} ` : ''}--from=${src.id} ${rawSources.join(' ')} in ${destAbs}${destIsDirSyntax ? '/' : ''} `].join(' ');
    // The source image's rootfs is mounted (through a container of it) only on a cache miss.
    await this.containerStep(st, st.config, createdBy, (rootFd, merged) =>
      withStepContainer(this.engine, src, ['/bin/sh', '-c', '#(nop) COPY --from'], { network: 'none', entrypoint: '' }, false, (srcId) =>
        withStepRootfs(this.engine, srcId, async (srcRoot) => {
          const realRoot = readlinkSync(`/proc/self/fd/${srcRoot}`);
          const opened: number[] = [];
          try {
            const sources = rawSources.map((raw) => {
              const path = posix.resolve('/', raw);
              const fd = resolveInRoot(srcRoot, path);
              if (fd === null) throw at(ins, `COPY failed: stat ${path}: file does not exist (in ${fromRef})`);
              let real: string;
              try {
                real = readlinkSync(`/proc/self/fd/${fd}`);
              } finally {
                closeSync(fd);
              }
              if (real !== realRoot && !real.startsWith(`${realRoot}/`)) throw at(ins, `COPY failed: ${path} resolves outside ${fromRef}'s rootfs`);
              const rel = real === realRoot ? '' : real.slice(realRoot.length + 1);
              const parentRel = posix.dirname(rel);
              const parentFd = openat2(srcRoot, rel === '' || parentRel === '.' ? '.' : parentRel, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, 0, path);
              opened.push(parentFd);
              const name = rel === '' ? '.' : posix.basename(rel);
              return { parentFd, name, rel, st: lstatSync(`/proc/self/fd/${parentFd}/${name}`), omit: [] } satisfies Source;
            });
            await this.place(ins, rootFd, merged, sources, new Set(), destAbs, destIsDirSyntax, chown, `COPY --from=${fromRef}`);
          } finally {
            for (const fd of opened) closeSync(fd);
          }
        }),
      ),
    );
  }
}

export async function build(engine: Engine, o: BuildOptions): Promise<BuildResult> {
  return new Builder(engine, o).build();
}
