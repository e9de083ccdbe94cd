// A real registry for the pull/push tests: Debian's docker-registry (distribution 2.8) with its
// own config and storage under a temp dir, on a free port of 127.0.0.1, optionally behind
// htpasswd (bcrypt, through apache2-utils' htpasswd) or token auth (a token server of ours, in
// the test process, signing RS256 JWTs with a key whose self-signed certificate the registry
// trusts). Its access log is the control for what mydocker asked (parsed per request).
//
// The registry runs under a tiny sh watchdog that kills it when our stdin pipe closes: even a
// test process killed outright leaves no registry behind. Also: images in an OCI layout
// directory (indexes with platforms, zstd layers) for skopeo to push, a throttling proxy for
// the kill -9 test, and an async mydocker runner (spawnSync would block the in-process token
// server and proxy).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tarStream from 'tar-stream';
import { cleanEnv, MYDOCKER, processesWith, type MydockerSandbox, type Result } from './mydocker.js';
import { REPO } from './runtime.js';

export const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.replace(/^sha256:/, '');

export const have = (cmd: string, arg = '--version') => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
export const haveRegistry = () => existsSync('/usr/bin/docker-registry') && have('skopeo');

export interface LogEntry {
  method: string;
  uri: string;
  status: number;
  agent: string;
}

export type RegistryAuth = { htpasswd: { user: string; password: string } } | { token: TokenServer };

export class TestRegistry {
  readonly dir: string;
  host = '';
  private proc: ChildProcess | null = null;

  private constructor(readonly tag: string) {
    this.dir = mkdtempSync(join(tmpdir(), `mydocker-test-registry-${tag}-${process.pid}-`));
  }

  get storage(): string {
    return join(this.dir, 'storage');
  }
  get logFile(): string {
    return join(this.dir, 'registry.log');
  }
  get configFile(): string {
    return join(this.dir, 'config.yml');
  }

  /** `opts.addr`: the address to listen on (127.0.0.1); `opts.tls`: serve HTTPS with this pair. */
  static async start(tag: string, auth?: RegistryAuth, opts: { addr?: string; tls?: { certFile: string; keyFile: string } } = {}): Promise<TestRegistry> {
    const r = new TestRegistry(tag);
    try {
      await r.boot(auth, opts);
    } catch (e) {
      await r.stop();
      throw e;
    }
    return r;
  }

  private async boot(auth: RegistryAuth | undefined, opts: { addr?: string; tls?: { certFile: string; keyFile: string } }): Promise<void> {
    let authYaml = '';
    if (auth && 'htpasswd' in auth) {
      const h = spawnSync('htpasswd', ['-Bbn', auth.htpasswd.user, auth.htpasswd.password], { encoding: 'utf8' });
      if (h.status !== 0) throw new Error(`htpasswd: ${h.stderr}`);
      writeFileSync(join(this.dir, 'htpasswd'), h.stdout);
      authYaml = `auth:\n  htpasswd:\n    realm: mydocker-test\n    path: ${join(this.dir, 'htpasswd')}\n`;
    } else if (auth && 'token' in auth) {
      const t = auth.token;
      authYaml = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certFile}\n`;
    }
    const tlsYaml = opts.tls ? `  tls:\n    certificate: ${opts.tls.certFile}\n    key: ${opts.tls.keyFile}\n` : '';
    writeFileSync(
      this.configFile,
      `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${this.storage}\n  delete:\n    enabled: true\nhttp:\n  addr: ${opts.addr ?? '127.0.0.1'}:0\n  secret: ${randomBytes(8).toString('hex')}\n${tlsYaml}${authYaml}`,
    );
    // The watchdog: the registry dies with our end of the pipe.
    this.proc = spawn('sh', ['-c', 'docker-registry serve "$1" >"$2" 2>&1 & p=$!; read _ || true; kill $p 2>/dev/null; wait $p', 'sh', this.configFile, this.logFile], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    for (let i = 0; i < 200; i++) {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
      const m = /listening on (\d+\.\d+\.\d+\.\d+:\d+)/.exec(log);
      if (m) {
        this.host = m[1]!;
        return;
      }
      if (this.proc.exitCode !== null || /level=fatal|level=panic/.test(log)) throw new Error(`docker-registry did not start:\n${log}`);
      await sleep(50);
    }
    throw new Error(`docker-registry did not start in 10 s:\n${readFileSync(this.logFile, 'utf8')}`);
  }

  /** The registry's requests (from its log), from the `since`-th on. */
  requests(since = 0): LogEntry[] {
    const out: LogEntry[] = [];
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      if (!/msg="response completed/.test(line)) continue;
      const f = (k: string) => /="?([^" ]*)/.exec(line.slice(line.indexOf(` ${k}=`) + k.length + 1))?.[1] ?? '';
      out.push({ method: f('http.request.method'), uri: f('http.request.uri'), status: Number(f('http.response.status')), agent: line.includes('useragent=mydocker') ? 'mydocker' : f('http.request.useragent') });
    }
    return out.slice(since);
  }

  /** Where the registry keeps a blob's bytes (filesystem driver). */
  blobData(digest: string): string {
    const h = hex(digest);
    return join(this.storage, 'docker/registry/v2/blobs/sha256', h.slice(0, 2), h, 'data');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.stdin?.end();
      await Promise.race([exited, sleep(5000)]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    // The registry itself (the watchdog's child): wait until it is gone.
    for (let i = 0; i < 100 && processesWith(this.configFile).length; i++) await sleep(50);
    for (const l of processesWith(this.configFile)) {
      try {
        process.kill(Number(l.split(' ')[0]), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Processes of this registry still alive (for the leak check). */
  leftovers(): string[] {
    return processesWith(this.configFile);
  }
}

// ------------------------------------------------------------------------------------------
// A token server (distribution's token auth): users, a key and its self-signed certificate.

export class TokenServer {
  readonly dir: string;
  readonly service = 'mydocker-test-registry';
  readonly issuer = 'mydocker-test-issuer';
  private server: http.Server | null = null;
  private key = '';
  private certDer = '';
  port = 0;
  /** Every token request: the account, whether it authenticated, the scopes asked. */
  readonly requests: { account: string | null; authenticated: boolean; scopes: string[] }[] = [];

  constructor(readonly users: Record<string, string>) {
    this.dir = mkdtempSync(join(tmpdir(), `mydocker-test-token-${process.pid}-`));
  }

  get certFile(): string {
    return join(this.dir, 'token.crt');
  }
  get realm(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  async start(): Promise<void> {
    const keyFile = join(this.dir, 'token.key');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', this.certFile, '-days', '2', '-subj', '/CN=mydocker-test-token'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
    this.key = readFileSync(keyFile, 'utf8');
    this.certDer = readFileSync(this.certFile, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.realm);
    const scopes = url.searchParams.getAll('scope');
    let account: string | null = null;
    let authenticated = false;
    const h = req.headers.authorization ?? '';
    if (h.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
      account = u ?? null;
      if (u && this.users[u] !== undefined && this.users[u] === p.join(':')) authenticated = true;
      else {
        this.requests.push({ account, authenticated: false, scopes });
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
    }
    this.requests.push({ account, authenticated, scopes });
    // Authenticated users get what they ask; anonymous ones nothing.
    const access = authenticated
      ? scopes.map((s) => {
          const [type, ...rest] = s.split(':');
          const actions = rest.pop()!.split(',');
          return { type, name: rest.join(':'), actions };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const head = b64({ typ: 'JWT', alg: 'RS256', x5c: [this.certDer] });
    const claims = b64({ iss: this.issuer, sub: account ?? '', aud: this.service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access });
    const sig = sign('RSA-SHA256', Buffer.from(`${head}.${claims}`), this.key).toString('base64url');
    const token = `${head}.${claims}.${sig}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  }

  async stop(): Promise<void> {
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise((r) => this.server!.close(r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------
// A proxy in front of a registry: counts requests, and can slow blob bodies down and tell when
// a number of a blob's bytes has gone through (to kill a pull mid-download).

export class SlowProxy {
  private server: http.Server | null = null;
  port = 0;
  /** Bytes per 20 ms tick for blob bodies (0: no limit). */
  rate = 0;
  /** Called with (digest, bytes so far) as a blob's body goes through. */
  onBlobBytes: ((digest: string, n: number) => void) | null = null;

  constructor(readonly target: string) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const up = http.request({ host: this.target.split(':')[0], port: Number(this.target.split(':')[1]), method: req.method, path: req.url, headers: { ...req.headers, host: this.target } }, (ur) => {
        const headers = { ...ur.headers };
        if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${this.target}`, `//${this.host}`);
        res.writeHead(ur.statusCode ?? 502, headers);
        const m = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '');
        if (!m || req.method !== 'GET') {
          ur.pipe(res);
          return;
        }
        let n = 0;
        (async () => {
          for await (const chunk of ur as AsyncIterable<Buffer>) {
            for (let off = 0; off < chunk.length; ) {
              const step = this.rate > 0 ? Math.min(this.rate, chunk.length - off) : chunk.length - off;
              const part = chunk.subarray(off, off + step);
              off += step;
              n += part.length;
              if (!res.write(part)) await new Promise((r) => res.once('drain', r));
              this.onBlobBytes?.(m[1]!, n);
              if (this.rate > 0) await sleep(20);
              if (res.destroyed) return;
            }
          }
          res.end();
        })().catch(() => res.destroy());
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
  }
}

// ------------------------------------------------------------------------------------------
// mydocker, asynchronously.

export function runAsync(md: MydockerSandbox, args: string[], opts: { env?: Record<string, string>; input?: string; timeout?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MYDOCKER, '--root', md.root, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: cleanEnv(opts.env) });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 120_000);
    p.on('error', reject);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** mydocker under a pseudo-terminal (util-linux script): what a user at a terminal sees. */
export function runTty(md: MydockerSandbox, args: string[]): Result {
  const cmd = [process.execPath, MYDOCKER, '--root', md.root, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...cleanEnv(), COLUMNS: '120', LINES: '40' }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// ------------------------------------------------------------------------------------------
// Images built offline.

/** The embedded busybox image's layer (an uncompressed tar) and config, from dist/images/busybox.tar. */
export async function busyboxLayer(): Promise<Buffer> {
  const archive = readFileSync(join(REPO, 'dist/images/busybox.tar'));
  const files = new Map<string, Buffer>();
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        files.set(h.name, Buffer.concat(chunks));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(archive);
  await done;
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Layers: string[] }[];
  return files.get(manifest[0]!.Layers[0]!)!;
}

export interface BuiltImage {
  config: Buffer;
  /** As stored in the registry (compressed or not). */
  layers: Buffer[];
  diffIds: string[];
  layerMediaTypes: string[];
  platform: { os: string; architecture: string; variant?: string };
}

/** An OCI image from uncompressed layer tars, each stored as `compression` says. */
export function ociImage(tars: Buffer[], opts: { arch?: string; variant?: string; cmd?: string[]; compress?: ('none' | 'gzip' | 'zstd')[] } = {}): BuiltImage {
  const diffIds = tars.map(sha);
  const arch = opts.arch ?? 'amd64';
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: arch,
      ...(opts.variant ? { variant: opts.variant } : {}),
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: opts.cmd ?? ['sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: tars.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }),
  );
  const layers: Buffer[] = [];
  const types: string[] = [];
  tars.forEach((t, i) => {
    const c = opts.compress?.[i] ?? 'gzip';
    if (c === 'none') {
      layers.push(t);
      types.push('application/vnd.oci.image.layer.v1.tar');
    } else if (c === 'gzip') {
      layers.push(spawnSync('gzip', ['-c', '-n'], { input: t, maxBuffer: 1 << 30 }).stdout);
      types.push('application/vnd.oci.image.layer.v1.tar+gzip');
    } else {
      const z = spawnSync('zstd', ['-q', '-c'], { input: t, maxBuffer: 1 << 30 });
      if (z.status !== 0) throw new Error(`zstd: ${z.stderr}`);
      layers.push(z.stdout);
      types.push('application/vnd.oci.image.layer.v1.tar+zstd');
    }
  });
  return { config, layers, diffIds, layerMediaTypes: types, platform: { os: 'linux', architecture: arch, ...(opts.variant ? { variant: opts.variant } : {}) } };
}

/**
 * An OCI image layout directory holding `images` under the name `ref`: one image as its
 * manifest, several as an image index with their platforms. Returns the digests.
 */
export function writeOciLayout(dir: string, ref: string, images: BuiltImage[]): { manifests: string[]; index?: string } {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer) => {
    writeFileSync(join(dir, 'blobs/sha256', hex(sha(b))), b);
    return { digest: sha(b), size: b.length };
  };
  const manifests = images.map((img) => {
    const m = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(img.config) },
        layers: img.layers.map((l, i) => ({ mediaType: img.layerMediaTypes[i], ...put(l) })),
      }),
    );
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put(m), platform: img.platform };
  });
  let top: { mediaType: string; digest: string; size: number };
  let index: string | undefined;
  if (images.length === 1) top = { mediaType: manifests[0]!.mediaType, digest: manifests[0]!.digest, size: manifests[0]!.size };
  else {
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', ...put(idx) };
    index = top.digest;
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': ref } }] }));
  return { manifests: manifests.map((m) => m.digest), ...(index ? { index } : {}) };
}

/** skopeo copy into the registry (plain HTTP), failing loudly. */
export function skopeoCopy(src: string, dest: string, extra: string[] = []): void {
  const r = spawnSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...extra, src, dest], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`skopeo copy ${src} ${dest}: ${r.stderr}`);
}

export function skopeo(args: string[]): string {
  const r = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
