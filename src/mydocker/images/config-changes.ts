// `commit -c` / `import -c`: Dockerfile instructions applied to an image's run config, as
// docker does: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL, and
// HEALTHCHECK with the Dockerfile's syntax (ONBUILD is refused: it has no meaning without a
// builder). CMD/ENTRYPOINT take the JSON
// array form or the shell form (`CMD echo hi` → ["/bin/sh","-c","echo hi"]).
import { posix } from 'node:path';
import { InputError } from '../errors.js';
import { MIN_DURATION, parseGoDuration, type HealthConfig } from '../containers/health.js';
import type { ConfigChange, ImageRunConfig } from './types.js';

const INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'WORKDIR', 'USER', 'LABEL', 'EXPOSE', 'VOLUME', 'STOPSIGNAL', 'HEALTHCHECK'];

function bad(change: string, why: string): never {
  throw new InputError(`--change ${JSON.stringify(change)}: ${why}`);
}

/** A JSON array of strings, or null when `s` is not one (then it is the shell form, as docker falls back). */
export function jsonArray(s: string): string[] | null {
  if (!s.startsWith('[')) return null;
  try {
    const v = JSON.parse(s) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* not JSON: the shell form, as docker does */
  }
  return null;
}

/**
 * Split Dockerfile words: whitespace-separated, with "double" and 'single' quotes and
 * backslash escapes (docker's ENV/LABEL word rules).
 */
export function words(s: string, change: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
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
  if (quote) bad(change, 'unterminated quote');
  if (inWord) out.push(cur);
  return out;
}

/** KEY=VALUE pairs (or the legacy `KEY VALUE` form for ENV/LABEL with one pair). */
function pairs(rest: string, change: string, what: string): [string, string][] {
  const ws = words(rest, change);
  if (ws.length === 0) bad(change, `${what} needs at least one argument`);
  if (!ws[0]!.includes('=')) {
    // Legacy form: ENV KEY value with spaces.
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest.trim());
    if (!m) bad(change, `${what} ${ws[0]} needs a value`);
    return [[m[1]!, words(m[2]!, change).join(' ')]];
  }
  return ws.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) bad(change, `${what}: ${JSON.stringify(w)} is not KEY=VALUE`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

const HEALTH_FLAGS = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' } as const;

/**
 * The Dockerfile's `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D]
 * [--start-interval=D] [--retries=N] CMD command|["exec", "form"]`, or `HEALTHCHECK NONE`.
 */
function healthcheck(rest: string, change: string): HealthConfig {
  let s = rest;
  const hc: HealthConfig = {};
  for (let m; (m = /^--([a-z-]+)=(\S*)\s*/.exec(s)); s = s.slice(m[0].length)) {
    const [, name = '', value = ''] = m;
    if (name === 'retries') {
      if (!/^-?\d+$/.test(value)) bad(change, `HEALTHCHECK --retries=${value}: not an integer`);
      if (Number(value) < 0) bad(change, `HEALTHCHECK --retries cannot be negative (${value})`);
      hc.Retries = Number(value);
    } else if (Object.hasOwn(HEALTH_FLAGS, name)) {
      const ns = parseGoDuration(value);
      if (ns === null) bad(change, `HEALTHCHECK --${name}=${value}: time: invalid duration ${JSON.stringify(value)}`);
      if (ns < 0) bad(change, `HEALTHCHECK --${name} cannot be negative`);
      if (ns !== 0 && ns < MIN_DURATION) bad(change, `HEALTHCHECK --${name} cannot be less than 1ms`);
      hc[HEALTH_FLAGS[name as keyof typeof HEALTH_FLAGS]] = ns;
    } else bad(change, `HEALTHCHECK: unknown flag --${name} (--interval, --timeout, --start-period, --start-interval, --retries)`);
  }
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(s.trim());
  const type = m?.[1]?.toUpperCase() ?? '';
  const cmd = (m?.[2] ?? '').trim();
  if (type === 'NONE') {
    if (cmd || Object.keys(hc).length) bad(change, 'HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') bad(change, `Unknown type ${JSON.stringify(m?.[1] ?? '')} in HEALTHCHECK (try CMD)`);
  if (!cmd) bad(change, 'HEALTHCHECK CMD needs a command');
  const exec = jsonArray(cmd);
  return { Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', cmd], ...hc };
}

/** Apply one change to a copy of `config`. */
export function applyChange(config: ImageRunConfig, change: ConfigChange): ImageRunConfig {
  const m = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(change);
  if (!m) bad(change, 'not a Dockerfile instruction');
  const op = m[1]!.toUpperCase();
  const rest = (m[2] ?? '').trim();
  if (!INSTRUCTIONS.includes(op)) bad(change, `${op} is not supported (one of ${INSTRUCTIONS.join(', ')})`);
  const c: ImageRunConfig = { ...config };
  switch (op) {
    case 'CMD':
    case 'ENTRYPOINT': {
      if (rest === '') bad(change, `${op} needs a command`);
      const cmd = jsonArray(rest) ?? ['/bin/sh', '-c', rest];
      if (op === 'CMD') c.Cmd = cmd;
      else {
        c.Entrypoint = cmd;
        // docker: a new ENTRYPOINT resets a CMD inherited from the image (not one set alongside).
      }
      break;
    }
    case 'ENV': {
      const env = [...(c.Env ?? [])];
      for (const [k, v] of pairs(rest, change, 'ENV')) {
        const i = env.findIndex((e) => e.split('=')[0] === k);
        if (i === -1) env.push(`${k}=${v}`);
        else env[i] = `${k}=${v}`;
      }
      c.Env = env;
      break;
    }
    case 'LABEL': {
      const labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of pairs(rest, change, 'LABEL')) labels[k] = v;
      c.Labels = labels;
      break;
    }
    case 'WORKDIR': {
      const w = words(rest, change).join(' ');
      if (w === '') bad(change, 'WORKDIR needs a path');
      c.WorkingDir = posix.resolve(c.WorkingDir || '/', w);
      break;
    }
    case 'USER': {
      const u = words(rest, change);
      if (u.length !== 1) bad(change, 'USER needs exactly one user[:group]');
      c.User = u[0]!;
      break;
    }
    case 'STOPSIGNAL': {
      const s = words(rest, change);
      if (s.length !== 1 || !/^(SIG)?[A-Z0-9+-]+$/i.test(s[0]!)) bad(change, 'STOPSIGNAL needs one signal');
      c.StopSignal = s[0]!;
      break;
    }
    case 'EXPOSE': {
      const ports = { ...(c.ExposedPorts ?? {}) };
      const ps = words(rest, change);
      if (ps.length === 0) bad(change, 'EXPOSE needs a port');
      for (const p of ps) {
        const pm = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!pm) bad(change, `EXPOSE: invalid port ${JSON.stringify(p)}`);
        const lo = Number(pm[1]);
        const hi = pm[2] ? Number(pm[2]) : lo;
        if (lo < 1 || hi > 65535 || hi < lo) bad(change, `EXPOSE: invalid port ${JSON.stringify(p)}`);
        const proto = (pm[3] ?? 'tcp').toLowerCase();
        for (let x = lo; x <= hi; x++) ports[`${x}/${proto}`] = {};
      }
      c.ExposedPorts = ports;
      break;
    }
    case 'HEALTHCHECK':
      c.Healthcheck = healthcheck(rest, change);
      break;
    case 'VOLUME': {
      const vols = { ...(c.Volumes ?? {}) };
      const list = jsonArray(rest) ?? words(rest, change);
      if (list.length === 0) bad(change, 'VOLUME needs a path');
      for (const v of list) {
        if (v === '') bad(change, 'VOLUME: empty path');
        vols[v] = {};
      }
      c.Volumes = vols;
      break;
    }
  }
  return c;
}

export function applyChanges(config: ImageRunConfig | undefined, changes: ConfigChange[] = []): ImageRunConfig {
  let c: ImageRunConfig = { ...(config ?? {}) };
  for (const ch of changes) c = applyChange(c, ch);
  return c;
}
