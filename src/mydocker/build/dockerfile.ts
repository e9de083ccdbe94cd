// The Dockerfile parser: text → stages of instructions, as docker's classic builder reads it.
//
//   - Parser directives (`# escape=\``, `# syntax=…`, `# check=…`) are read only at the very top,
//     before any comment, blank line or instruction; `escape` is honoured, the others ignored
//     (there is no BuildKit frontend to hand the file to).
//   - A line ending in the escape character continues on the next; comment lines inside a
//     continuation are dropped, as docker does; a `#` elsewhere is not a comment.
//   - Each instruction keeps its line number and its original text (what "Step N/M :" prints),
//     its leading --flags, and its JSON array form when it has one.
//   - ARGs before the first FROM are the global ("meta") ARGs, usable in FROM lines only.
// Nothing is substituted here: that is the builder's, with the state of the build (shell-words.ts).
import { jsonArray } from '../images/config-changes.js';
import { InputError } from '../errors.js';

export interface Instruction {
  /** Upper-case keyword: RUN, COPY, … */
  cmd: string;
  /** 1-based line of the instruction's first line. */
  line: number;
  /** The logical line as written (continuations joined), for "Step N/M : …". */
  original: string;
  /** Leading --name=value flags (--from, --chown, --platform…). */
  flags: Record<string, string>;
  /** Everything after the keyword and flags, trimmed. */
  args: string;
  /** The JSON array form (exec form), or null for the shell/plain form. */
  json: string[] | null;
}

export interface Stage {
  /** The FROM instruction. */
  from: Instruction;
  /** The image (or earlier stage) named, unsubstituted. */
  base: string;
  /** `AS name`, lower-cased as docker does. */
  name?: string;
  index: number;
  instructions: Instruction[];
}

export interface Dockerfile {
  escape: string;
  /** ARG instructions before the first FROM. */
  metaArgs: Instruction[];
  stages: Stage[];
}

/** Instructions docker knows; the builder refuses the ones mydocker does not support with its own message. */
export const KNOWN = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);

/** Flags each instruction accepts (the classic builder's set; BuildKit-only ones are refused by name). */
const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  COPY: ['from', 'chown'],
  ADD: ['chown'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};
const BUILDKIT_FLAGS = new Set(['mount', 'network', 'security', 'chmod', 'link', 'keep-git-dir', 'checksum', 'parents', 'exclude']);

export class DockerfileError extends InputError {}

function fail(line: number, msg: string): never {
  throw new DockerfileError(`Dockerfile parse error line ${line}: ${msg}`);
}

interface LogicalLine {
  line: number;
  text: string;
}

/** Directives, then logical lines (comments dropped, continuations joined). */
function logicalLines(text: string): { escape: string; lines: LogicalLine[] } {
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let i = 0;
  const seen = new Set<string>();
  for (; i < raw.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(raw[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (!['escape', 'syntax', 'check'].includes(key)) break; // an ordinary comment ends the directives
    if (seen.has(key)) fail(i + 1, `only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') fail(i + 1, `invalid escape token '${m[2]}' does not match ` + '` or \\');
      escape = m[2];
    }
  }
  const lines: LogicalLine[] = [];
  let cur: LogicalLine | null = null;
  for (; i < raw.length; i++) {
    const l = raw[i]!;
    const trimmed = l.trim();
    if (trimmed.startsWith('#')) continue; // a comment, also inside a continuation
    if (cur === null && trimmed === '') continue;
    let body = l.replace(/\s+$/, '');
    const continues = body.endsWith(escape);
    if (continues) body = body.slice(0, -1);
    if (cur === null) cur = { line: i + 1, text: body.replace(/^\s+/, '') };
    else cur.text += body;
    if (!continues) {
      if (cur.text.trim() !== '') lines.push({ line: cur.line, text: cur.text.trim() });
      cur = null;
    }
  }
  if (cur !== null && cur.text.trim() !== '') lines.push({ line: cur.line, text: cur.text.trim() });
  return { escape, lines };
}

function parseInstruction(l: LogicalLine): Instruction {
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(l.text)!;
  const cmd = m[1]!.toUpperCase();
  if (!KNOWN.has(cmd)) fail(l.line, `unknown instruction: ${m[1]}`);
  let rest = (m[2] ?? '').trim();
  const flags: Record<string, string> = {};
  // Flags come first, `--name=value` (or a bare `--name`), before the arguments.
  for (;;) {
    const f = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!f) break;
    const name = f[1]!.toLowerCase();
    if (!(FLAGS[cmd] ?? []).includes(name)) {
      if (BUILDKIT_FLAGS.has(name)) fail(l.line, `${cmd} --${name}: a BuildKit-only flag (mydocker build is docker's classic builder)`);
      fail(l.line, `unknown flag: --${name} for ${cmd}`);
    }
    if (f[2] === undefined) fail(l.line, `${cmd} --${name}: needs a value (--${name}=…)`);
    flags[name] = f[2];
    rest = rest.slice(f[0].length);
  }
  if (rest === '') fail(l.line, `${cmd} requires at least one argument`);
  if (/^<<-?\S/.test(rest) && ['RUN', 'COPY', 'ADD'].includes(cmd)) fail(l.line, `${cmd} with a heredoc (<<): a BuildKit-only form`);
  return { cmd, line: l.line, original: l.text, flags, args: rest, json: jsonArray(rest) };
}

export function parseDockerfile(text: string): Dockerfile {
  const { escape, lines } = logicalLines(text);
  const df: Dockerfile = { escape, metaArgs: [], stages: [] };
  const names = new Set<string>();
  for (const l of lines) {
    const ins = parseInstruction(l);
    if (ins.cmd === 'FROM') {
      const words = ins.args.split(/\s+/);
      let name: string | undefined;
      if (words.length === 3 && words[1]!.toUpperCase() === 'AS') {
        name = words[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) fail(ins.line, `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
        if (names.has(name)) fail(ins.line, `duplicate name ${name}`);
        names.add(name);
      } else if (words.length !== 1) {
        fail(ins.line, `FROM requires either one or three arguments (FROM image [AS name])`);
      }
      df.stages.push({ from: ins, base: words[0]!, ...(name ? { name } : {}), index: df.stages.length, instructions: [] });
      continue;
    }
    const stage = df.stages[df.stages.length - 1];
    if (!stage) {
      if (ins.cmd !== 'ARG') fail(ins.line, `no build stage in current context: ${ins.cmd} before the first FROM (only ARG can come before FROM)`);
      df.metaArgs.push(ins);
      continue;
    }
    stage.instructions.push(ins);
  }
  if (df.stages.length === 0) throw new DockerfileError('the Dockerfile has no FROM instruction (file with no instructions?)');
  return df;
}
