// sha256 digests ("sha256:<hex>") computed while bytes stream by.
import { createHash, type Hash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** "sha256:abc…" → "abc…" */
export function hexOf(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice(7) : digest;
}

/** A pass-through that hashes and counts what flows through it. */
export class Hasher extends Transform {
  private hash: Hash = createHash('sha256');
  bytes = 0;
  private result?: string;

  /** `copyFd`: also write every byte to this fd (synchronously, before passing it on). */
  constructor(
    private onBytes?: (n: number) => void,
    private copyFd?: number,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    if (this.copyFd !== undefined) {
      try {
        for (let off = 0; off < chunk.length; ) off += writeSync(this.copyFd, chunk, off);
      } catch (e) {
        cb(e as Error);
        return;
      }
    }
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    cb(null, chunk);
  }

  /** The digest of everything that went through; only once the stream has ended. */
  digest(): string {
    return (this.result ??= `sha256:${this.hash.digest('hex')}`);
  }
}
