// The build context: the directory COPY and ADD read from, as docker's classic builder sees it.
//
//   - .dockerignore with docker's pattern rules (moby/patternmatcher): `*`, `?`, `[…]`, `**`
//     for any number of directories, `!` exceptions, the last matching pattern wins, and a
//     pattern that matches a parent directory matches everything under it.
//   - A source path is resolved inside the context only: `..` climbing out is refused (docker's
//     "forbidden path outside the build context"), and a symlink on the way — absolute or
//     relative — is followed as if the context were the root (openat2 RESOLVE_IN_ROOT), so no
//     source can name a host file outside the context. Inside a copied directory symlinks are
//     copied as symlinks, never followed (tree-tar.ts).
//   - Sources may be globs (`*.txt`, `dir/?/x`), matched one path component at a time.
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { Writable } from 'node:stream';
import { O_CLOEXEC, O_DIRECTORY, O_PATH, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, openat2 } from '../../kernel/at.js';
import { KernelError } from '../../kernel/ffi.js';
import { InputError } from '../errors.js';
import { tarWriter } from '../images/tar.js';
import { packItem } from '../images/tree-tar.js';

// ---------------------------------------------------------------------------------------------
// .dockerignore

interface IgnorePattern {
  re: RegExp;
  exclusion: boolean;
  text: string;
}

/** One pattern as docker compiles it into a regexp (patternmatcher's compile). */
export function patternRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++; // `**/` is `**`
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new InputError(`.dockerignore: ${pattern}: syntax error in pattern (unclosed [)`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
    } else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

export class IgnoreMatcher {
  readonly patterns: IgnorePattern[] = [];

  constructor(text = '') {
    for (const raw of text.split(/\r?\n/)) {
      let p = raw.trim();
      if (p === '' || p.startsWith('#')) continue;
      let exclusion = false;
      if (p.startsWith('!')) {
        exclusion = true;
        p = p.slice(1).trim();
      }
      p = posix.normalize(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
      p = p.replace(/\/+$/, '') || p;
      this.patterns.push({ re: patternRegExp(p), exclusion, text: p });
    }
  }

  get hasExceptions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** Whether a context-relative path ("dir/file") is excluded (docker's MatchesOrParentMatches). */
  ignored(rel: string): boolean {
    if (rel === '' || rel === '.') return false;
    const parts = rel.split('/');
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue; // cannot change the outcome
      let m = p.re.test(rel);
      for (let i = 1; !m && i < parts.length; i++) m = p.re.test(parts.slice(0, i).join('/'));
      if (m) matched = !p.exclusion;
    }
    return matched;
  }
}

// ---------------------------------------------------------------------------------------------
// Sources

/** One resolved source: `name` in the directory `parentFd`, at `rel` in the context. */
export interface Source {
  parentFd: number;
  name: string;
  /** Context-relative, '' for the context's root. */
  rel: string;
  st: Stats;
  /** Paths under it (relative to it) left out by .dockerignore. */
  omit: string[];
}

const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
const BENEATH = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
const hasGlob = (s: string) => /[*?[]/.test(s);

/** A component glob (filepath.Match) as a regexp. */
function globRegExp(component: string): RegExp {
  return patternRegExp(component.replace(/\*\*/g, '*'));
}

export class BuildContext {
  private fds: number[] = [];

  private constructor(
    /** Null for a context-less build (`build -` with the Dockerfile on stdin). */
    readonly root: string | null,
    private readonly rootFd: number,
    readonly ignore: IgnoreMatcher,
  ) {}

  static open(dir: string | null): BuildContext {
    if (dir === null) return new BuildContext(null, -1, new IgnoreMatcher());
    let fd: number;
    try {
      fd = openat2(-100, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, dir);
    } catch (e) {
      throw new InputError(`unable to prepare context: path ${JSON.stringify(dir)} not found or not a directory${e instanceof KernelError ? ` (${e.code})` : ''}`);
    }
    // The real path: what resolved fds are checked against (RESOLVE_IN_ROOT keeps them inside).
    const real = readlinkSync(`/proc/self/fd/${fd}`);
    let text = '';
    try {
      text = readFileSync(`/proc/self/fd/${fd}/.dockerignore`, 'utf8');
    } catch {
      /* none */
    }
    const ctx = new BuildContext(real, fd, new IgnoreMatcher(text));
    ctx.fds.push(fd);
    return ctx;
  }

  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }

  /** Bytes of the files a docker client would send (its "Sending build context" line). */
  size(): number {
    if (this.root === null) return 0;
    let total = 0;
    const walk = (abs: string, rel: string) => {
      for (const e of readdirSync(abs, { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        const ign = this.ignore.ignored(r);
        if (e.isDirectory()) {
          if (!ign || this.ignore.hasExceptions) walk(`${abs}/${e.name}`, r);
        } else if (!ign) total += lstatSync(`${abs}/${e.name}`).size;
      }
    };
    walk(this.root, '');
    return total;
  }

  private track(fd: number): number {
    this.fds.push(fd);
    return fd;
  }

  /** The sources one COPY/ADD argument names (a glob may name several, sorted); `what` prefixes errors. */
  resolve(raw: string, what: string): Source[] {
    const cleaned = posix.normalize(raw);
    if (cleaned === '..' || cleaned.startsWith('../')) throw new InputError(`${what} failed: forbidden path outside the build context: ${raw} ()`);
    const notFound = () => new InputError(`${what} failed: file not found in build context or excluded by .dockerignore: stat ${raw}: file does not exist`);
    if (this.root === null) throw notFound();
    const rel = cleaned.replace(/^\/+/, '').replace(/\/+$/, '');
    if (!hasGlob(rel)) {
      const s = this.resolveOne(rel === '.' ? '' : rel);
      if (!s) throw notFound();
      return [s];
    }
    const found: Source[] = [];
    for (const m of this.glob(rel.split('/').filter((c) => c !== '' && c !== '.'))) {
      const s = this.resolveOne(m);
      if (s) found.push(s);
    }
    if (found.length === 0) throw new InputError(`${what} failed: no source files were specified`);
    return found;
  }

  /** Paths matching a glob, one component at a time (directories are listed through in-root fds). */
  private glob(parts: string[]): string[] {
    let current = [''];
    for (const part of parts) {
      const next: string[] = [];
      for (const dir of current) {
        if (!hasGlob(part)) {
          next.push(dir ? `${dir}/${part}` : part);
          continue;
        }
        const re = globRegExp(part);
        let fd: number;
        try {
          fd = openat2(this.rootFd, dir || '.', O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT, 0, dir);
        } catch {
          continue;
        }
        try {
          for (const n of readdirSync(`/proc/self/fd/${fd}`).sort()) if (re.test(n)) next.push(dir ? `${dir}/${n}` : n);
        } finally {
          closeSync(fd);
        }
      }
      current = next;
    }
    return current;
  }

  /** One context path, symlinks followed inside the context; null when missing or ignored. */
  private resolveOne(rel: string): Source | null {
    let fd: number;
    try {
      fd = openat2(this.rootFd, rel || '.', O_PATH | O_CLOEXEC, IN_ROOT, 0, rel);
    } catch (e) {
      if (e instanceof KernelError && (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'ELOOP')) return null;
      throw e;
    }
    let real: string;
    try {
      real = readlinkSync(`/proc/self/fd/${fd}`);
    } finally {
      closeSync(fd);
    }
    const root = this.root!;
    if (real !== root && !real.startsWith(`${root}/`)) return null; // cannot happen with RESOLVE_IN_ROOT; refused all the same
    const target = real === root ? '' : real.slice(root.length + 1);
    if (this.ignore.ignored(target)) return null;
    const parentRel = posix.dirname(target);
    const parentFd = this.track(openat2(this.rootFd, target === '' || parentRel === '.' ? '.' : parentRel, O_PATH | O_DIRECTORY | O_CLOEXEC, BENEATH, 0, parentRel));
    const name = target === '' ? '.' : posix.basename(target);
    const st = lstatSync(`/proc/self/fd/${parentFd}/${name}`);
    return { parentFd, name, rel: target, st, omit: st.isDirectory() ? this.omitted(real, target) : [] };
  }

  /** What .dockerignore leaves out under a directory (relative to it). */
  private omitted(abs: string, rel: string): string[] {
    const out: string[] = [];
    if (this.ignore.patterns.length === 0) return out;
    /** Walks `a` (at `r` under the source); true when something under it is kept. */
    const walk = (a: string, r: string): boolean => {
      let kept = false;
      for (const e of readdirSync(a, { withFileTypes: true })) {
        const sub = r ? `${r}/${e.name}` : e.name;
        const full = rel ? `${rel}/${sub}` : sub;
        const ign = this.ignore.ignored(full);
        if (e.isDirectory() && (!ign || this.ignore.hasExceptions)) {
          // An ignored directory stays only for what an exception keeps inside it.
          const inner = walk(`${a}/${e.name}`, sub);
          if (ign && !inner) out.push(sub);
          else kept = true;
        } else if (ign) out.push(sub);
        else kept = true;
      }
      return kept;
    };
    walk(abs, '');
    return out;
  }
}

/**
 * docker's content hash of COPY/ADD sources for the cache: names, types, modes, link targets
 * and contents — not owners or times (a touched file with the same content still hits).
 */
export async function hashSources(sources: { s: Source; prefix: string }[]): Promise<string> {
  const h = createHash('sha256');
  const pack = tarWriter();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb();
    },
  });
  const done = new Promise<void>((resolve, reject) => {
    sink.on('finish', resolve);
    sink.on('error', reject);
    pack.on('error', reject);
  });
  pack.pipe(sink);
  for (const { s, prefix } of sources) {
    await packItem(s.parentFd, s.name, pack, { prefix, omit: s.omit, deterministic: { mtime: new Date(0) }, what: s.rel || '.' });
  }
  pack.finalize();
  await done;
  return h.digest('hex');
}
