// Dockerfile words as docker's shell lexer (moby/buildkit's shell.Lex) reads them: variable
// substitution ($VAR, ${VAR}, ${VAR:-word}, ${VAR:+word}, ${VAR-word}, ${VAR+word},
// ${VAR:?msg}), 'single' and "double" quotes, and the escape character (\ or the `# escape`
// directive's `). Only the instructions docker substitutes in use this (ADD, COPY, ENV, EXPOSE,
// FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG); RUN, CMD and ENTRYPOINT are left to the
// shell in the container, as docker does.
import { InputError } from '../errors.js';

/** A variable's value, or undefined when it is not set (empty is set). */
export type Lookup = (name: string) => string | undefined;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

class Lexer {
  i = 0;
  constructor(
    readonly s: string,
    readonly env: Lookup,
    readonly escape: string,
  ) {}

  peek(): string | undefined {
    return this.s[this.i];
  }

  /**
   * One word: quotes removed, escapes resolved, variables expanded. `stop`: characters that end
   * the word when unquoted (whitespace for word splitting, `}` inside ${…:-word}).
   */
  word(stop: (c: string) => boolean): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (stop(c)) break;
      this.i++;
      if (c === this.escape) {
        // Outside quotes the escape character makes the next one literal (a trailing one stays).
        out += this.i < this.s.length ? this.s[this.i++]! : c;
      } else if (c === "'") {
        const end = this.s.indexOf("'", this.i);
        if (end < 0) throw new InputError(`unexpected end of statement while looking for matching single-quote`);
        out += this.s.slice(this.i, end);
        this.i = end + 1;
      } else if (c === '"') {
        out += this.doubleQuoted();
      } else if (c === '$') {
        out += this.dollar();
      } else {
        out += c;
      }
    }
    return out;
  }

  private doubleQuoted(): string {
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) throw new InputError(`unexpected end of statement while looking for matching double-quote`);
      const c = this.s[this.i++]!;
      if (c === '"') return out;
      if (c === this.escape && this.i < this.s.length) {
        const n = this.s[this.i]!;
        // Inside double quotes only ", $ and the escape character itself are escaped (the shell's rule).
        if (n === '"' || n === '$' || n === this.escape) {
          out += n;
          this.i++;
        } else out += c;
      } else if (c === '$') out += this.dollar();
      else out += c;
    }
  }

  /** After a `$`: a variable, ${…}, or a literal `$`. */
  private dollar(): string {
    const c = this.peek();
    if (c === '{') {
      this.i++;
      return this.braced();
    }
    if (c === undefined || !NAME_START.test(c)) return '$';
    let name = '';
    while (this.i < this.s.length && NAME_CHAR.test(this.s[this.i]!)) name += this.s[this.i++];
    return this.env(name) ?? '';
  }

  private braced(): string {
    let name = '';
    while (this.i < this.s.length && NAME_CHAR.test(this.s[this.i]!)) name += this.s[this.i++];
    if (name === '') throw new InputError(`bad substitution: \${${this.s.slice(this.i, this.s.indexOf('}', this.i) + 1 || undefined)}`);
    const value = this.env(name);
    const c = this.s[this.i];
    if (c === '}') {
      this.i++;
      return value ?? '';
    }
    let op = '';
    if (c === ':') {
      op = ':';
      this.i++;
    }
    const kind = this.s[this.i];
    if (kind !== '-' && kind !== '+' && kind !== '?') throw new InputError(`bad substitution: unsupported modifier in \${${name}${op}${kind ?? ''}…}`);
    this.i++;
    op += kind;
    const word = this.word((x) => x === '}');
    if (this.s[this.i] !== '}') throw new InputError(`bad substitution: missing '}' after \${${name}`);
    this.i++;
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (op) {
      case ':-':
        return nonEmpty ? value! : word;
      case '-':
        return set ? value! : word;
      case ':+':
        return nonEmpty ? word : '';
      case '+':
        return set ? word : '';
      default:
        // ${VAR:?msg} / ${VAR?msg}: an error when unset (or empty, with ':').
        if (op === ':?' ? nonEmpty : set) return value!;
        throw new InputError(`${name}: ${word || 'is not allowed to be unset'}`);
    }
  }
}

/** One word: the whole string, quotes and escapes processed, variables expanded (docker's ProcessWord). */
export function processWord(s: string, env: Lookup, escape = '\\'): string {
  const lx = new Lexer(s, env, escape);
  return lx.word(() => false);
}

/** Words split on unquoted whitespace, each processed (docker's ProcessWords). */
export function processWords(s: string, env: Lookup, escape = '\\'): string[] {
  const lx = new Lexer(s, env, escape);
  const out: string[] = [];
  for (;;) {
    while (lx.i < s.length && /\s/.test(s[lx.i]!)) lx.i++;
    if (lx.i >= s.length) return out;
    out.push(lx.word((c) => /\s/.test(c)));
  }
}

/**
 * Split on unquoted whitespace keeping each word's raw text (quotes and escapes in place): the
 * KEY=VALUE words of ENV, LABEL and ARG, each processed afterwards.
 */
export function rawWords(s: string, escape = '\\'): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      cur += c;
      if (c === escape && quote === '"' && i + 1 < s.length) cur += s[++i];
      else if (c === quote) quote = null;
      continue;
    }
    if (c === escape && i + 1 < s.length) {
      cur += c + s[++i];
      inWord = true;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new InputError(`unexpected end of statement while looking for matching ${quote === '"' ? 'double' : 'single'}-quote`);
  if (inWord) out.push(cur);
  return out;
}

/** The index of the first `=` outside quotes in a raw word, or -1. */
export function unquotedEquals(word: string, escape = '\\'): number {
  let quote: string | null = null;
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (quote) {
      if (c === escape && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === escape) i++;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '=') return i;
  }
  return -1;
}
