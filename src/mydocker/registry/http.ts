// One HTTP(S) exchange with a registry, a token server or a storage backend, through Node's
// http/https with keep-alive agents (a pull reuses a few connections for all its blobs).
// Everything above this — redirects, auth, the distribution API — is client.ts.
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import { MydockerError } from '../errors.js';

/** A registry said no, or could not be reached; `status` when it answered. */
export class RegistryError extends MydockerError {
  constructor(
    message: string,
    readonly status?: number,
    /** The distribution spec's error codes in the body (MANIFEST_UNKNOWN, DENIED, …). */
    readonly codes: string[] = [],
  ) {
    super(message);
  }
}

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: Method;
  url: URL;
  headers?: OutgoingHttpHeaders;
  /** A buffer, or a function that opens the body afresh (streams cannot be replayed). */
  body?: Buffer | (() => Readable);
  /** Skip certificate verification (an insecure registry). */
  insecureTls?: boolean;
}

/** No byte for this long on a connection: it is dead. */
const IDLE_TIMEOUT_MS = 60_000;

/**
 * The extra CA certificates a user gave in NODE_EXTRA_CA_CERTS, read only when a verified TLS
 * connection is made. The `mydocker` bin's shebang moves the variable to
 * MYDOCKER_EXTRA_CA_CERTS before Node starts: Node itself parses that file eagerly at every
 * start (~30 ms for a system bundle), which every `ps` or `run --network none` would pay.
 * Node's own rule is kept: its bundled roots plus the file's; an unreadable file is a warning.
 */
export function extraCaOptions(env: NodeJS.ProcessEnv = process.env): https.AgentOptions {
  const file = env.MYDOCKER_EXTRA_CA_CERTS;
  if (!file) return {};
  try {
    return { ca: [...rootCertificates, readFileSync(file, 'utf8')] };
  } catch (e) {
    process.emitWarning(`Ignoring extra certs from \`${file}\` (NODE_EXTRA_CA_CERTS), load failed: ${(e as Error).message}`);
    return {};
  }
}

export class Transport {
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
    httpsInsecure: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false }),
  };
  private verified?: https.Agent;
  private get https(): https.Agent {
    return (this.verified ??= new https.Agent({ keepAlive: true, maxSockets: 16, ...extraCaOptions() }));
  }

  /** Send one request; resolves with the response (whose body the caller must read or drop). */
  send(req: HttpRequest): Promise<IncomingMessage> {
    const tls = req.url.protocol === 'https:';
    if (!tls && req.url.protocol !== 'http:') return Promise.reject(new RegistryError(`${req.url.href}: unsupported URL scheme`));
    const agent = tls ? (req.insecureTls ? this.agents.httpsInsecure : this.https) : this.agents.http;
    const headers: OutgoingHttpHeaders = { 'user-agent': 'mydocker/0.1', ...req.headers };
    if (Buffer.isBuffer(req.body)) headers['content-length'] = req.body.length;
    else if (req.body === undefined && ['POST', 'PUT', 'PATCH'].includes(req.method) && headers['content-length'] === undefined) headers['content-length'] = 0;
    return new Promise((resolve, reject) => {
      const r = (tls ? https : http).request(req.url, { method: req.method, headers, agent }, resolve);
      r.on('error', (e) => reject(networkError(req.method, req.url, e)));
      r.setTimeout(IDLE_TIMEOUT_MS, () => r.destroy(Object.assign(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
      if (req.body === undefined) r.end();
      else if (Buffer.isBuffer(req.body)) r.end(req.body);
      else {
        let body: Readable;
        try {
          body = req.body();
        } catch (e) {
          r.destroy(e as Error);
          return;
        }
        body.on('error', (e) => r.destroy(e));
        body.pipe(r);
      }
    });
  }

  /** Drop every kept-alive connection (the process can then exit). */
  close(): void {
    for (const a of [...Object.values(this.agents), this.verified]) a?.destroy();
  }
}

/** An error of the connection (not an HTTP status), named as a user can act on it. */
export function networkError(method: string, url: URL, e: unknown): Error {
  if (e instanceof MydockerError) return e;
  const err = e as NodeJS.ErrnoException & { reason?: string };
  const where = `${method} ${url.origin}${url.pathname}`;
  const host = url.hostname;
  let why: string;
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      why = `lookup ${host}: no such host`;
      break;
    case 'ECONNREFUSED':
      why = `connect to ${url.host}: connection refused`;
      break;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      why = `connect to ${url.host}: network unreachable`;
      break;
    default:
      if (isTlsMismatch(e) && url.protocol === 'https:' && (err.code === 'EPROTO' || /wrong version number/.test(err.message))) {
        why = `TLS handshake failed: the server does not speak TLS (a plain-HTTP registry? allow it with --insecure-registry ${url.host} or daemon.json's insecure-registries)`;
      } else if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(err.code ?? '')) {
        why = `x509: ${err.message} (to skip verification for this registry: --insecure-registry ${url.host} or daemon.json's insecure-registries)`;
      } else why = err.message || String(e);
  }
  return Object.assign(new RegistryError(`${where}: ${why}${err.code && !why.includes(err.code) ? ` (${err.code})` : ''}`), { code: err.code, cause: e });
}

/** TLS spoken to a plain-HTTP server (or the reverse): the cue to fall back to HTTP. */
export function isTlsMismatch(e: unknown): boolean {
  const err = (e as { cause?: NodeJS.ErrnoException }).cause ?? (e as NodeJS.ErrnoException);
  const code = err?.code ?? '';
  const msg = err?.message ?? '';
  return code === 'EPROTO' || code === 'ECONNRESET' || code.startsWith('ERR_SSL') || /wrong version number|packet length too long|unknown protocol|socket hang up/i.test(msg);
}

/** Read a whole (small) body; more than `limit` bytes is an error. */
export async function readBody(res: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.destroy();
    throw new RegistryError(`${what}: ${declared} bytes, more than the ${limit} allowed`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      res.destroy();
      throw new RegistryError(`${what}: more than the ${limit} bytes allowed`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** Throw the body away (so the connection can be reused). */
export async function drain(res: IncomingMessage): Promise<void> {
  try {
    for await (const _ of res as AsyncIterable<Buffer>) void _;
  } catch {
    /* a broken body is of no interest here */
  }
}

/**
 * The error a non-2xx answer means, in docker's words: the spec's error codes and messages
 * ("manifest unknown: manifest unknown"), else the status and the start of the body.
 */
export async function responseError(res: IncomingMessage, what: string): Promise<RegistryError> {
  const status = res.statusCode ?? 0;
  let text = '';
  try {
    text = (await readBody(res, 64 << 10, what)).toString('utf8');
  } catch {
    /* the status says enough */
  }
  const codes: string[] = [];
  let detail = '';
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[]; details?: string; error?: string };
    if (Array.isArray(body.errors) && body.errors.length) {
      detail = body.errors
        .map((e) => {
          if (e.code) codes.push(e.code);
          const code = (e.code ?? '').toLowerCase().replace(/_/g, ' ');
          return code && e.message ? `${code}: ${e.message}` : (e.message ?? code);
        })
        .join('; ');
    } else if (typeof body.details === 'string') detail = body.details;
    else if (typeof body.error === 'string') detail = body.error;
  } catch {
    /* not JSON */
  }
  if (!detail) {
    const t = text.replace(/\s+/g, ' ').trim().slice(0, 200);
    detail = `${status} ${http.STATUS_CODES[status] ?? ''}`.trim() + (t ? ` (${t})` : '');
  }
  return new RegistryError(`${what}: ${detail}`, status, codes);
}
