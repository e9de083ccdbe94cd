// The content store: blobs/sha256/<hex>, each exactly the bytes received, verified against
// its digest while it streams in. A blob is written to a temp file, fsync'd and renamed into
// place, so a crash never leaves a partial blob under a digest.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { InputError, systemError } from '../errors.js';
import { hexOf, sha256 } from './digest.js';

export interface IngestedBlob {
  /** The temp file holding it (until commit). */
  path: string;
  digest: string;
  size: number;
}

/** The first `n` bytes of a file (fewer if it is shorter): magic numbers. */
export function readHead(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    let off = 0;
    for (let got = -1; got !== 0 && off < n; off += got) got = readSync(fd, buf, off, n - off, off);
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

export function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Stream `input` into the file `path`, hashing it; fsync'd. */
export async function writeHashed(input: AsyncIterable<Buffer>, path: string, onBytes?: (n: number) => void): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  const fd = openSync(path, 'wx', 0o600);
  let size = 0;
  try {
    for await (const chunk of input) {
      hash.update(chunk);
      let off = 0;
      try {
        while (off < chunk.length) off += writeSync(fd, chunk, off);
      } catch (e) {
        throw systemError(`write ${path}`, e);
      }
      size += chunk.length;
      onBytes?.(chunk.length);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export class BlobStore {
  constructor(readonly root: string) {}

  get dir(): string {
    return join(this.root, 'blobs', 'sha256');
  }

  path(digest: string): string {
    return join(this.dir, hexOf(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  size(digest: string): number {
    return statSync(this.path(digest)).size;
  }

  read(digest: string): Buffer {
    return readFileSync(this.path(digest));
  }

  readJSON<T>(digest: string): T {
    return JSON.parse(this.read(digest).toString('utf8')) as T;
  }

  /**
   * Ingest `input` into the temp dir `tmp`; with `expected`, a different digest is an error
   * (and the temp file is removed).
   */
  async ingest(input: Readable | AsyncIterable<Buffer>, tmp: string, name: string, expected?: string, what = name, onBytes?: (n: number) => void): Promise<IngestedBlob> {
    const path = join(tmp, name);
    const { digest, size } = await writeHashed(input as AsyncIterable<Buffer>, path, onBytes);
    if (expected !== undefined && digest !== expected) {
      unlinkSync(path);
      throw new InputError(`${what}: digest mismatch: expected ${expected}, got ${digest}`);
    }
    return { path, digest, size };
  }

  /** Ingest bytes already in memory (a config, a manifest). */
  ingestBytes(data: Buffer, tmp: string, name: string): IngestedBlob {
    const path = join(tmp, name);
    const fd = openSync(path, 'wx', 0o600);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off);
      fsyncSync(fd);
    } catch (e) {
      throw systemError(`write ${path}`, e);
    } finally {
      closeSync(fd);
    }
    return { path, digest: sha256(data), size: data.length };
  }

  /** Move an ingested temp file into place under its digest (a no-op when the blob is there). */
  commit(blob: IngestedBlob): void {
    const dest = this.path(blob.digest);
    if (existsSync(dest)) {
      rmSync(blob.path, { force: true });
      return;
    }
    mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
    renameSync(blob.path, dest);
  }

  /** fsync the blobs directory once after commits, so the renames survive a power loss. */
  syncDir(): void {
    if (existsSync(this.dir)) fsyncDir(this.dir);
  }

  remove(digest: string): void {
    rmSync(this.path(digest), { force: true });
  }

  list(): string[] {
    try {
      return readdirSync(this.dir)
        .filter((h) => /^[a-f0-9]{64}$/.test(h))
        .map((h) => `sha256:${h}`);
    } catch {
      return [];
    }
  }
}
