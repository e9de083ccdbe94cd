// The OCI distribution API (what docker, containerd and skopeo speak to a registry), for one
// registry and its repositories:
//   GET  /v2/                                   ping: scheme and auth challenge
//   GET  /v2/<name>/manifests/<ref>             manifests and indexes, by tag or digest
//   PUT  /v2/<name>/manifests/<tag>
//   GET|HEAD /v2/<name>/blobs/<digest>          (redirects to a storage backend followed)
//   POST /v2/<name>/blobs/uploads/[?mount=&from=]  an upload session, or a cross-repo mount
//   PATCH <location> (chunks), PUT <location>?digest=   chunked or monolithic upload
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { sha256 } from '../images/digest.js';
import { MEDIA } from '../images/manifest.js';
import { Authenticator, parseChallenges } from './auth.js';
import type { Credentials } from './credentials.js';
import { apiHost, isInsecure, type RegistrySettings } from './hosts.js';
import { drain, isTlsMismatch, readBody, RegistryError, responseError, type Method, type Transport } from './http.js';

export const SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+prettyjws', 'application/vnd.docker.distribution.manifest.v1+json'];
/** What we accept for a manifest GET (schema 1 too, to refuse it by name rather than by a 404). */
const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest, ...SCHEMA1].join(', ');
/** Manifests bigger than this are refused (containerd's limit). */
const MANIFEST_LIMIT = 4 << 20;

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

interface RequestOptions {
  scopes: string[];
  headers?: OutgoingHttpHeaders;
  body?: Buffer | (() => Readable);
}

export class Registry {
  /** host[:port] of the API. */
  readonly host: string;
  readonly insecure: boolean;
  private scheme: 'https' | 'http' = 'https';
  private pinged: Promise<void> | null = null;
  readonly auth: Authenticator;

  constructor(
    /** The reference's domain ("docker.io", "127.0.0.1:5000"). */
    readonly domain: string,
    readonly transport: Transport,
    readonly settings: RegistrySettings,
    credentials: Credentials | undefined,
  ) {
    this.host = apiHost(domain);
    this.insecure = isInsecure(domain, settings);
    this.auth = new Authenticator(transport, settings, credentials);
  }

  get base(): string {
    return `${this.scheme}://${this.host}`;
  }

  repository(path: string): Repository {
    return new Repository(this, path);
  }

  /**
   * `GET /v2/`, once: HTTPS, or (an insecure registry that does not speak TLS) plain HTTP; and
   * the auth challenge.
   */
  ping(): Promise<void> {
    this.pinged ??= (async () => {
      const schemes: ('https' | 'http')[] = this.insecure ? ['https', 'http'] : ['https'];
      for (const scheme of schemes) {
        const url = new URL(`${scheme}://${this.host}/v2/`);
        let res: IncomingMessage;
        try {
          res = await this.transport.send({ method: 'GET', url, insecureTls: this.insecure });
        } catch (e) {
          if (scheme === 'https' && this.insecure && isTlsMismatch(e)) continue;
          throw e;
        }
        this.scheme = scheme;
        const status = res.statusCode ?? 0;
        if (status === 401) {
          this.auth.setChallenges(parseChallenges(res.headers['www-authenticate']));
          await drain(res);
        } else if (status >= 200 && status < 300) {
          await drain(res);
        } else {
          throw await responseError(res, `GET ${url.href}: not a registry (v2 API)`);
        }
        return;
      }
    })();
    this.pinged.catch(() => {
      this.pinged = null;
    });
    return this.pinged;
  }

  /**
   * A request with auth (one retry after a 401 that a new token can fix) and, for GET and
   * HEAD, redirects followed (the Authorization header stays with the registry's own origin).
   */
  async request(method: Method, pathOrUrl: string, o: RequestOptions): Promise<IncomingMessage> {
    await this.ping();
    let url = new URL(pathOrUrl, this.base);
    // Credentials and the insecure allowance are the registry's own: a URL on another host
    // (an upload location, a redirect to storage) gets neither.
    const own = (u: URL) => u.origin === new URL(this.base).origin;
    for (let attempt = 0; ; attempt++) {
      const auth = await this.auth.header(o.scopes);
      const headers: OutgoingHttpHeaders = { ...o.headers, ...(auth && own(url) ? { authorization: auth } : {}) };
      let res = await this.transport.send({ method, url, headers, ...(o.body !== undefined ? { body: o.body } : {}), insecureTls: own(url) && this.insecure });
      for (let hops = 0; (method === 'GET' || method === 'HEAD') && isRedirect(res.statusCode) && res.headers.location; hops++) {
        if (hops >= 10) throw new RegistryError(`${method} ${url.href}: too many redirects`);
        await drain(res);
        const next = new URL(res.headers.location, url);
        const h: OutgoingHttpHeaders = { ...o.headers, ...(own(next) && auth ? { authorization: auth } : {}) };
        res = await this.transport.send({ method, url: next, headers: h, insecureTls: own(next) && this.insecure });
        url = next;
      }
      if (res.statusCode === 401 && attempt === 0 && this.auth.retryAfter401(res.headers['www-authenticate'], o.scopes)) {
        await drain(res);
        url = new URL(pathOrUrl, this.base);
        continue;
      }
      return res;
    }
  }

  /** For login: the credentials work (a token, or `GET /v2/` with Basic), or a RegistryError. */
  async checkLogin(): Promise<void> {
    await this.ping();
    const scheme = this.auth.scheme;
    if (scheme === 'bearer') {
      await this.auth.token([]);
      return;
    }
    if (scheme === 'basic') {
      const res = await this.request('GET', '/v2/', { scopes: [] });
      if (res.statusCode === 401) {
        await drain(res);
        throw new RegistryError(`login to ${this.domain}: unauthorized: incorrect username or password`, 401);
      }
      if ((res.statusCode ?? 0) >= 300) throw await responseError(res, `login to ${this.domain}`);
      await drain(res);
    }
    // No challenge: the registry wants no credentials (docker's login succeeds too).
  }
}

const isRedirect = (s: number | undefined) => s === 301 || s === 302 || s === 303 || s === 307 || s === 308;

export class Repository {
  constructor(
    readonly registry: Registry,
    /** The path in the registry: "library/busybox". */
    readonly path: string,
    /** The token scopes every request asks for (push adds push, and mount sources' pull). */
    public scopes: string[] = [`repository:${path}:pull`],
  ) {}

  private url(kind: 'manifests' | 'blobs', ref: string): string {
    return `/v2/${this.path}/${kind}/${ref}`;
  }

  private what(method: string, kind: string, ref: string): string {
    return `${method} ${this.registry.domain}/${this.path} ${kind} ${ref}`;
  }

  /** A manifest or index by tag or digest: its bytes, digest (checked) and media type. */
  async manifest(ref: string): Promise<FetchedManifest> {
    const res = await this.registry.request('GET', this.url('manifests', ref), { scopes: this.scopes, headers: { accept: ACCEPT } });
    if (res.statusCode !== 200) throw await responseError(res, `manifest ${ref}`);
    const bytes = await readBody(res, MANIFEST_LIMIT, `manifest ${ref}`);
    const digest = sha256(bytes);
    const claimed = res.headers['docker-content-digest'];
    if (typeof claimed === 'string' && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new RegistryError(`manifest ${ref}: digest mismatch: the registry says ${claimed}, its bytes are ${digest}`);
    }
    if (ref.startsWith('sha256:') && ref !== digest) throw new RegistryError(`manifest ${ref}: digest mismatch: the registry sent ${digest}`);
    let mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    let parsed: { mediaType?: unknown; manifests?: unknown; schemaVersion?: unknown; config?: unknown } = {};
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new RegistryError(`manifest ${ref}: not JSON`);
    }
    if (typeof parsed.mediaType === 'string' && parsed.mediaType) mediaType = parsed.mediaType;
    else if (!mediaType || mediaType === 'application/json' || mediaType === 'text/plain' || mediaType === 'application/octet-stream') {
      mediaType = parsed.schemaVersion === 1 ? SCHEMA1[0]! : Array.isArray(parsed.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
    }
    return { bytes, digest, mediaType };
  }

  /** The blob's bytes as they stream in (the caller checks size and digest). */
  async blob(digest: string): Promise<IncomingMessage> {
    const res = await this.registry.request('GET', this.url('blobs', digest), { scopes: this.scopes });
    if (res.statusCode !== 200) throw await responseError(res, `blob ${digest}`);
    return res;
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.registry.request('HEAD', this.url('blobs', digest), { scopes: this.scopes });
    await drain(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw new RegistryError(`${this.what('HEAD', 'blob', digest)}: ${res.statusCode}`, res.statusCode);
  }

  /**
   * Mount a blob from another repository of the registry: 'mounted', or the upload session the
   * registry opened instead (the mount was refused: upload into it).
   */
  async mount(digest: string, from: string): Promise<'mounted' | { location: string }> {
    const q = new URLSearchParams({ mount: digest, from });
    const res = await this.registry.request('POST', `/v2/${this.path}/blobs/uploads/?${q}`, { scopes: this.scopes });
    if (res.statusCode === 201) {
      await drain(res);
      return 'mounted';
    }
    if (res.statusCode === 202 && res.headers.location) {
      await drain(res);
      return { location: res.headers.location };
    }
    throw await responseError(res, `mount ${digest} from ${from}`);
  }

  /** A new upload session's location. */
  async startUpload(): Promise<string> {
    const res = await this.registry.request('POST', `/v2/${this.path}/blobs/uploads/`, { scopes: this.scopes });
    if (res.statusCode !== 202 || !res.headers.location) throw await responseError(res, `start an upload to ${this.registry.domain}/${this.path}`);
    await drain(res);
    return res.headers.location;
  }

  /**
   * Upload a blob into a session: one PUT (monolithic) when it fits in `chunkSize`, else
   * PATCH chunks with Content-Range, then the closing PUT ?digest=. `open(start, end)` opens
   * bytes start..end-1.
   */
  async upload(location: string, digest: string, size: number, open: (start: number, end: number) => Readable, chunkSize: number): Promise<void> {
    let loc = location;
    const withDigest = (l: string) => {
      const u = new URL(l, this.registry.base);
      u.searchParams.set('digest', digest);
      return u.href;
    };
    if (size <= chunkSize) {
      const res = await this.registry.request('PUT', withDigest(loc), {
        scopes: this.scopes,
        headers: { 'content-type': 'application/octet-stream', 'content-length': size },
        body: () => open(0, size),
      });
      if (res.statusCode !== 201) throw await responseError(res, `upload ${digest}`);
      await drain(res);
      return;
    }
    for (let start = 0; start < size; start += chunkSize) {
      const end = Math.min(size, start + chunkSize);
      const res = await this.registry.request('PATCH', loc, {
        scopes: this.scopes,
        headers: { 'content-type': 'application/octet-stream', 'content-length': end - start, 'content-range': `${start}-${end - 1}` },
        body: () => open(start, end),
      });
      if (res.statusCode !== 202 || !res.headers.location) throw await responseError(res, `upload ${digest} (bytes ${start}-${end - 1})`);
      await drain(res);
      const range = /^(?:bytes=)?0-(\d+)$/.exec(String(res.headers.range ?? ''));
      if (range && Number(range[1]) !== end - 1) throw new RegistryError(`upload ${digest}: the registry has bytes 0-${range[1]}, we sent 0-${end - 1}`);
      loc = res.headers.location;
    }
    const res = await this.registry.request('PUT', withDigest(loc), { scopes: this.scopes });
    if (res.statusCode !== 201) throw await responseError(res, `upload ${digest}`);
    await drain(res);
  }

  /** PUT a manifest under a tag (or digest); returns the digest the registry gives it. */
  async putManifest(ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.registry.request('PUT', this.url('manifests', ref), { scopes: this.scopes, headers: { 'content-type': mediaType }, body: bytes });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await responseError(res, `put manifest ${this.registry.domain}/${this.path}:${ref}`);
    await drain(res);
    const digest = sha256(bytes);
    const claimed = res.headers['docker-content-digest'];
    if (typeof claimed === 'string' && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new RegistryError(`put manifest: the registry stored it as ${claimed}, its bytes are ${digest}`);
    }
    return digest;
  }
}
