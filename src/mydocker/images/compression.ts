// Compression of archives and layers, detected by magic bytes (never by a file's name):
// gzip through zlib; xz, zstd and bzip2 through the host's own decompressors (`xz -dc`,
// `zstd -dc`, `bzip2 -dc`), refused clearly where the host lacks them.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Duplex, PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

const TOOLS: Record<Exclude<Compression, 'none' | 'gzip'>, { bin: string; pkg: string }> = {
  zstd: { bin: 'zstd', pkg: 'zstd' },
  xz: { bin: 'xz', pkg: 'xz-utils' },
  bzip2: { bin: 'bzip2', pkg: 'bzip2' },
};

function findTool(bin: string): string | null {
  for (const dir of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = `${dir || '.'}/${bin}`;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Whether this host can decompress `kind` (zstd and xz need their tools). */
export function canDecompress(kind: Compression): boolean {
  return kind === 'none' || kind === 'gzip' || findTool(TOOLS[kind].bin) !== null;
}

/** Refuse now, clearly, what this host cannot decompress (nothing is spawned). */
export function requireDecompressor(kind: Compression, what: string): void {
  if (kind === 'none' || kind === 'gzip') return;
  const tool = TOOLS[kind];
  if (!findTool(tool.bin)) throw new InputError(`${what}: ${kind}-compressed, and ${tool.bin} is not installed (apt-get install ${tool.pkg})`);
}

/**
 * A stream that decompresses `kind`. `what` names the input in errors ("layer sha256:…",
 * "busybox.tar.xz").
 */
export function decompressor(kind: Compression, what: string): Duplex {
  if (kind === 'none') return new PassThrough();
  if (kind === 'gzip') {
    // 128 KiB output chunks, not zlib's 16 KiB: a quarter of the callbacks into the main
    // thread per layer (measured: gunzip of a 24 MB layer about twice as fast).
    const z = createGunzip({ chunkSize: 128 * 1024 });
    return z;
  }
  requireDecompressor(kind, what);
  const tool = TOOLS[kind];
  const bin = findTool(tool.bin)!;
  const child = spawn(bin, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  // The tool's verdict arrives after its stdout ends: hold the end of the readable side until
  // it has exited, so a corrupt input is an error and not a short, clean stream.
  const out = new PassThrough();
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let ended = false;
  const finish = () => {
    if (!exited || !ended) return;
    if (exited.code === 0) out.end();
    else {
      const line = stderr.trim().split('\n').pop() || `exit ${exited.code ?? exited.signal}`;
      out.destroy(new InputError(`${what}: ${kind} decompression failed: ${line.replace(/^[^:]*: /, '')}`));
    }
  };
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    finish();
  });
  child.on('error', (e) => out.destroy(new InputError(`${what}: ${tool.bin}: ${e.message}`)));
  child.stdout.on('data', (c: Buffer) => {
    if (!out.write(c)) {
      child.stdout.pause();
      out.once('drain', () => child.stdout.resume());
    }
  });
  child.stdout.on('end', () => {
    ended = true;
    finish();
  });
  // Writes go to the tool's stdin; an EPIPE there (it died) is reported by its exit.
  child.stdin.on('error', () => undefined);
  const result = Duplex.from({ writable: child.stdin, readable: out });
  result.on('close', () => {
    if (exited === null) child.kill('SIGKILL');
  });
  return result;
}

/** Read the first `n` bytes of a stream without losing them: returns the head and a stream of everything. */
export async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let have = 0;
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have >= n) done();
    };
    const onEnd = () => done();
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    const done = () => {
      cleanup();
      input.pause();
      const head = Buffer.concat(chunks);
      out.write(head);
      input.on('error', (e) => out.destroy(e));
      if (input.readableEnded) out.end();
      else input.pipe(out);
      resolve({ head: head.subarray(0, n), stream: out });
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}
