// Registry authentication, as docker's client does it:
//   - `GET /v2/` answers 401 with `WWW-Authenticate`: the challenge, once per registry;
//   - Basic: the stored user and password on every request;
//   - Bearer: a token from the challenge's realm (`GET realm?service=…&scope=…`, with Basic
//     credentials when we have some, anonymous otherwise; `POST` grant_type=refresh_token
//     with an identity token), cached per set of scopes until it expires; a 401 that names a
//     scope we did not ask for (insufficient_scope) gets a new token and one retry.
// Credentials never go over plain HTTP to a host that is not allowed plain HTTP.
import type { Credentials } from './credentials.js';
import { isInsecure, type RegistrySettings } from './hosts.js';
import { readBody, RegistryError, responseError, type Transport } from './http.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** RFC 7235 challenges: `Bearer realm="…",service="…", Basic realm="…"` (one header or several). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const h of Array.isArray(header) ? header : header ? [header] : []) {
    let s = h;
    let current: Challenge | null = null;
    const re = /^\s*,?\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?/;
    while (s.trim().length) {
      const m = re.exec(s);
      if (!m) break;
      s = s.slice(m[0].length);
      if (m[2] === undefined) {
        // A token without "=": a new scheme (a token68 right after it is ignored).
        current = { scheme: m[1]!.toLowerCase(), params: {} };
        out.push(current);
      } else if (current) {
        let v = m[3] ?? '';
        if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
        current.params[m[1]!.toLowerCase()] = v;
      }
    }
  }
  return out;
}

interface Token {
  token: string;
  expires: number;
}

export class Authenticator {
  private challenge: Challenge | null = null;
  private readonly tokens = new Map<string, Token>();
  /** Scopes the registry asked for in a 401, added to every later token request. */
  private readonly extraScopes = new Set<string>();

  constructor(
    private readonly transport: Transport,
    private readonly settings: RegistrySettings,
    private readonly credentials: Credentials | undefined,
  ) {}

  /** The challenges of `GET /v2/` (none: the registry needs no auth). */
  setChallenges(list: Challenge[]): void {
    this.challenge = list.find((c) => c.scheme === 'bearer') ?? list.find((c) => c.scheme === 'basic') ?? null;
  }

  get scheme(): string | null {
    return this.challenge?.scheme ?? null;
  }

  /** The Authorization header for a request needing `scopes` (undefined: none to send). */
  async header(scopes: string[]): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      const cr = this.credentials;
      return cr && cr.username ? `Basic ${Buffer.from(`${cr.username}:${cr.password}`).toString('base64')}` : undefined;
    }
    if (c.scheme === 'bearer') return `Bearer ${await this.token(scopes)}`;
    throw new RegistryError(`the registry asks for ${c.scheme} authentication, which mydocker does not speak (Basic and Bearer only)`);
  }

  /**
   * A request got 401: take what its WWW-Authenticate says. True when a retry can succeed (a
   * new scope, a challenge we did not know, a cached token that may have expired).
   */
  retryAfter401(header: string | string[] | undefined, scopes: string[]): boolean {
    const list = parseChallenges(header);
    const bearer = list.find((c) => c.scheme === 'bearer');
    if (!this.challenge) {
      if (!list.length) return false;
      this.setChallenges(list);
      return true;
    }
    if (this.challenge.scheme === 'bearer' && bearer) {
      const key = this.key(scopes);
      const had = this.tokens.delete(key);
      let added = false;
      for (const s of (bearer.params.scope ?? '').split(' ').filter(Boolean)) {
        if (!scopes.includes(s) && !this.extraScopes.has(s)) {
          this.extraScopes.add(s);
          added = true;
        }
      }
      return added || had;
    }
    return false;
  }

  private key(scopes: string[]): string {
    return [...new Set([...scopes, ...this.extraScopes])].sort().join(' ');
  }

  /** Get (or reuse) a bearer token for `scopes` ([] for login: just the credentials). */
  async token(scopes: string[]): Promise<string> {
    const c = this.challenge!;
    const key = this.key(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now() + 10_000) return cached.token;
    const realm = c.params.realm;
    if (!realm) throw new RegistryError('the registry asks for a bearer token but names no realm to get it from');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`token realm ${JSON.stringify(realm)}: not a URL`);
    }
    const cr = this.credentials;
    const plain = url.protocol === 'http:';
    if (url.protocol !== 'https:' && !plain) throw new RegistryError(`token realm ${realm}: not http(s)`);
    const insecure = isInsecure(url.host, this.settings);
    if (plain && cr && !insecure) throw new RegistryError(`token realm ${realm} is plain HTTP: refusing to send credentials to it (list ${url.host} in insecure-registries if you mean it)`);
    const allScopes = key ? key.split(' ') : [];
    let res;
    if (cr?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cr.identityToken, client_id: 'mydocker', ...(c.params.service ? { service: c.params.service } : {}) });
      if (allScopes.length) form.set('scope', allScopes.join(' '));
      res = await this.transport.send({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), insecureTls: insecure });
    } else {
      if (c.params.service) url.searchParams.set('service', c.params.service);
      for (const s of allScopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (cr && cr.username) {
        url.searchParams.set('account', cr.username);
        headers.authorization = `Basic ${Buffer.from(`${cr.username}:${cr.password}`).toString('base64')}`;
      }
      res = await this.transport.send({ method: 'GET', url, headers, insecureTls: insecure });
    }
    const what = `token from ${url.origin}${url.pathname}`;
    if (res.statusCode === 401 || res.statusCode === 403) {
      const e = await responseError(res, what);
      throw new RegistryError(cr ? `${what}: unauthorized: incorrect username or password` : `${e.message} (authentication required: mydocker login)`, res.statusCode, e.codes);
    }
    if (res.statusCode !== 200) throw await responseError(res, what);
    const body = await readBody(res, 1 << 20, what);
    let parsed: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RegistryError(`${what}: not JSON`);
    }
    const token = parsed.token || parsed.access_token;
    if (!token || typeof token !== 'string') throw new RegistryError(`${what}: the answer holds no token`);
    const life = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
    const from = Number.isFinite(issued) && Math.abs(issued - Date.now()) < 3600_000 ? issued : Date.now();
    this.tokens.set(key, { token, expires: from + life * 1000 });
    return token;
  }
}
