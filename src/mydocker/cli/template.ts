// `--format` templates: the part of Go's text/template that docker users write.
//
//   {{.ID}} {{.Names}}                fields, nested: {{.State.Status}}, {{.Config.Env}}
//   {{json .Config}}                  functions: json, upper, lower, title, len, join, index,
//   {{join .Args " "}}                           split, printf (%s %d %v %q), println, pad
//   {{range .Mounts}}{{.Source}} {{end}}    range (with {{.}} and {{$}}), if / else / end,
//   {{if .State.Running}}up{{else}}down{{end}}   with, and the "table" prefix of ps/images
// Values print as Go does: maps as map[k:v], slices as [a b], nil as <no value>.
import { InputError } from '../errors.js';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; expr: Expr }
  | { kind: 'range'; expr: Expr; body: Node[]; else: Node[] }
  | { kind: 'if'; expr: Expr; body: Node[]; else: Node[] }
  | { kind: 'with'; expr: Expr; body: Node[]; else: Node[] };

type Arg = { kind: 'field'; path: string[]; root: boolean } | { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'call'; expr: Expr };
type Expr = { fn?: string; args: Arg[] };

const FUNCS = new Set(['json', 'upper', 'lower', 'title', 'len', 'join', 'index', 'split', 'printf', 'println', 'print', 'pad', 'truncate', 'not', 'eq', 'ne']);

function tokenize(src: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|[^\s()]+)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) !== null) {
    if (m[1] === undefined) break;
    out.push(m[1]);
    if (re.lastIndex >= src.length) break;
  }
  return out;
}

function parseArgs(tokens: string[], template: string): Expr {
  const stack: Arg[][] = [[]];
  const fns: (string | undefined)[] = [undefined];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const cur = stack[stack.length - 1]!;
    if (t === '(') {
      stack.push([]);
      fns.push(undefined);
      continue;
    }
    if (t === ')') {
      const args = stack.pop()!;
      const fn = fns.pop();
      if (!stack.length) throw new InputError(`--format ${JSON.stringify(template)}: unbalanced ")"`);
      stack[stack.length - 1]!.push({ kind: 'call', expr: { ...(fn ? { fn } : {}), args } });
      continue;
    }
    if (t.startsWith('"')) cur.push({ kind: 'string', value: JSON.parse(t) as string });
    else if (t.startsWith('`')) cur.push({ kind: 'string', value: t.slice(1, -1) });
    else if (/^-?\d+$/.test(t)) cur.push({ kind: 'number', value: Number(t) });
    else if (t === '.' || t.startsWith('.')) cur.push({ kind: 'field', path: t.split('.').filter(Boolean), root: false });
    else if (t === '$' || t.startsWith('$.')) cur.push({ kind: 'field', path: t.split('.').slice(1).filter(Boolean), root: true });
    else if (FUNCS.has(t) && cur.length === 0 && fns[fns.length - 1] === undefined) fns[fns.length - 1] = t;
    else throw new InputError(`--format ${JSON.stringify(template)}: function ${JSON.stringify(t)} not defined`);
  }
  if (stack.length !== 1) throw new InputError(`--format ${JSON.stringify(template)}: unbalanced "("`);
  const fn = fns[0];
  return { ...(fn ? { fn } : {}), args: stack[0]! };
}

function parse(template: string): Node[] {
  const root: Node[] = [];
  const stack: { nodes: Node[]; node?: Extract<Node, { body: Node[] }>; inElse: boolean }[] = [{ nodes: root, inElse: false }];
  const re = /\{\{-?\s*(.*?)\s*-?\}\}/gs;
  let last = 0;
  let m: RegExpExecArray | null;
  const top = () => stack[stack.length - 1]!;
  const push = (n: Node) => {
    const t = top();
    if (t.node) (t.inElse ? t.node.else : t.node.body).push(n);
    else t.nodes.push(n);
  };
  while ((m = re.exec(template)) !== null) {
    if (m.index > last) push({ kind: 'text', text: template.slice(last, m.index) });
    last = re.lastIndex;
    const body = m[1]!;
    const tokens = tokenize(body);
    const head = tokens[0];
    if (head === 'range' || head === 'if' || head === 'with') {
      const node = { kind: head, expr: parseArgs(tokens.slice(1), template), body: [], else: [] } as Extract<Node, { body: Node[] }>;
      push(node);
      stack.push({ nodes: [], node, inElse: false });
    } else if (head === 'else') {
      if (stack.length < 2) throw new InputError(`--format ${JSON.stringify(template)}: unexpected {{else}}`);
      top().inElse = true;
    } else if (head === 'end') {
      if (stack.length < 2) throw new InputError(`--format ${JSON.stringify(template)}: unexpected {{end}}`);
      stack.pop();
    } else if (head === undefined) {
      throw new InputError(`--format ${JSON.stringify(template)}: empty action {{}}`);
    } else {
      push({ kind: 'expr', expr: parseArgs(tokens, template) });
    }
  }
  if (stack.length !== 1) throw new InputError(`--format ${JSON.stringify(template)}: unexpected EOF (missing {{end}})`);
  if (last < template.length) push({ kind: 'text', text: template.slice(last) });
  return root;
}

/** Go's %v of a value. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  }
  return String(v);
}

function lookup(value: unknown, path: string[], template: string): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'object') throw new InputError(`--format ${JSON.stringify(template)}: can't evaluate field ${p} in type ${typeof v}`);
    const obj = v as Record<string, unknown>;
    if (!(p in obj)) {
      // Go templates fail on a missing field of a struct: name it.
      throw new InputError(`--format ${JSON.stringify(template)}: can't evaluate field ${p}`);
    }
    v = obj[p];
  }
  return v;
}

const truthy = (v: unknown) => !(v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && !v.length) || (typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.keys(v).length));

function sprintf(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%([-\d.]*)([sdvq%])/g, (_m, width: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s = verb === 'q' ? JSON.stringify(goString(a)) : verb === 'd' ? String(Math.trunc(Number(a))) : goString(a);
    const w = Number.parseInt(width, 10);
    if (w) s = w < 0 || width.startsWith('-') ? s.padEnd(Math.abs(w)) : s.padStart(w);
    return s;
  });
}

function evalExpr(e: Expr, dot: unknown, root: unknown, template: string): unknown {
  const args = e.args.map((a) => {
    switch (a.kind) {
      case 'string':
      case 'number':
        return a.value;
      case 'field':
        return lookup(a.root ? root : dot, a.path, template);
      case 'call':
        return evalExpr(a.expr, dot, root, template);
    }
  });
  if (!e.fn) {
    if (args.length !== 1) throw new InputError(`--format ${JSON.stringify(template)}: can't give arguments to a non-function`);
    return args[0];
  }
  const s = (x: unknown) => (typeof x === 'string' ? x : goString(x));
  switch (e.fn) {
    case 'json':
      return JSON.stringify(args[0] ?? null);
    case 'upper':
      return s(args[0]).toUpperCase();
    case 'lower':
      return s(args[0]).toLowerCase();
    case 'title':
      return s(args[0]).replace(/\b\w/g, (c) => c.toUpperCase());
    case 'len':
      return Array.isArray(args[0]) ? args[0].length : typeof args[0] === 'object' && args[0] ? Object.keys(args[0]).length : s(args[0]).length;
    case 'join':
      return Array.isArray(args[0]) ? args[0].map(s).join(s(args[1] ?? '')) : s(args[0]);
    case 'split':
      return s(args[0]).split(s(args[1]));
    case 'index': {
      const v = args[0] as Record<string | number, unknown> | undefined;
      return v?.[args[1] as string | number];
    }
    case 'printf':
      return sprintf(s(args[0]), args.slice(1));
    case 'print':
      return args.map(s).join(' ');
    case 'println':
      return `${args.map(s).join(' ')}\n`;
    case 'pad':
      return `${' '.repeat(Number(args[1] ?? 0))}${s(args[0])}${' '.repeat(Number(args[2] ?? 0))}`;
    case 'truncate':
      return s(args[0]).slice(0, Number(args[1]));
    case 'not':
      return !truthy(args[0]);
    case 'eq':
      return args.slice(1).some((x) => x === args[0]);
    case 'ne':
      return args[0] !== args[1];
  }
  return undefined;
}

function render(nodes: Node[], dot: unknown, root: unknown, template: string): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'expr') {
      const v = evalExpr(n.expr, dot, root, template);
      out += typeof v === 'string' ? v : goString(v);
    } else if (n.kind === 'if') out += render(truthy(evalExpr(n.expr, dot, root, template)) ? n.body : n.else, dot, root, template);
    else if (n.kind === 'with') {
      const v = evalExpr(n.expr, dot, root, template);
      out += truthy(v) ? render(n.body, v, root, template) : render(n.else, dot, root, template);
    } else {
      const v = evalExpr(n.expr, dot, root, template);
      const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
      if (!items.length) out += render(n.else, dot, root, template);
      for (const item of items) out += render(n.body, item, root, template);
    }
  }
  return out;
}

export interface Template {
  /** "table …": a header row, columns aligned. */
  table: boolean;
  exec(value: unknown): string;
}

export function compile(text: string): Template {
  let t = text;
  let table = false;
  if (/^table(\s|$)/.test(t)) {
    table = true;
    t = t.replace(/^table\s*/, '');
  }
  // Docker's escapes in --format: \t and \n typed on the command line.
  t = t.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const nodes = parse(t);
  return { table, exec: (value) => render(nodes, value, value, text) };
}
