// Opening an archive given on the command line: a path or '-' (stdin), compressed or not
// (detected by magic bytes), as a tar stream; plus its size for progress.
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { InputError } from '../errors.js';
import { decompressor, detectCompression, peek, type Compression } from './compression.js';

export interface OpenedArchive {
  /** The uncompressed tar bytes. */
  tar: Readable;
  compression: Compression;
  /** Bytes of the input as given (for progress), when known. */
  total?: number;
  /** Counts input bytes as they are read. */
  onRead(cb: (n: number) => void): void;
  what: string;
}

export async function openArchive(src: string): Promise<OpenedArchive> {
  const what = src === '-' ? 'stdin' : src;
  let input: Readable;
  let total: number | undefined;
  if (src === '-') {
    input = process.stdin;
  } else {
    try {
      const st = statSync(src);
      if (st.isDirectory()) throw new InputError(`${src}: is a directory, not an archive`);
      total = st.size;
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`${src}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    input = createReadStream(src, { highWaterMark: 1 << 20 });
  }
  const listeners: ((n: number) => void)[] = [];
  input.on('data', (c: Buffer) => {
    for (const l of listeners) l(c.length);
  });
  const { head, stream } = await peek(input, 6);
  if (head.length === 0) throw new InputError(`${what}: empty archive`);
  const compression = detectCompression(head);
  const dec = decompressor(compression, what);
  stream.on('error', (e) => dec.destroy(e));
  stream.pipe(dec);
  // Whoever stops reading (an error, a refused entry) destroys the tar stream: stop the
  // input too (and the decompressor's process with it), or the process would never exit.
  dec.on('close', () => {
    stream.destroy();
    if (input !== process.stdin) input.destroy();
    else input.unpipe();
  });
  const out: OpenedArchive = { tar: dec, compression, what, onRead: (cb) => listeners.push(cb) };
  if (total !== undefined) out.total = total;
  return out;
}
