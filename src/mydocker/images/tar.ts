// The tar FORMAT, through tar-stream (mafintosh/tar-stream): parsing and writing headers,
// PAX, GNU long names. What is written to disk from an archive is our own code (extract.ts).
//
// Two small fixes on top of tar-stream: PAX records are decoded and encoded as BYTES for
// SCHILY.xattr.* (an xattr such as security.capability is binary; tar-stream reads and writes
// every PAX value as UTF-8, which would corrupt it), and every header is checked (a size that
// is negative, not an integer, or beyond what a file can be) before anything acts on it. An
// archive must end with its end-of-archive block: a tar cut exactly between two entries
// would otherwise parse as a complete, shorter one.
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import tarHeaders from 'tar-stream/headers.js';
import { InputError, MydockerError, systemError } from '../errors.js';

export type TarType =
  | 'file'
  | 'link'
  | 'symlink'
  | 'character-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  | 'contiguous-file';

export interface TarHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  type: TarType;
  linkname?: string | null;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records; SCHILY.xattr.* values are latin1 strings (one char per byte). */
  pax?: Record<string, string> | null;
}

const XATTR = 'SCHILY.xattr.';

function decodePax(buf: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 0x20) i++;
    const len = parseInt(buf.subarray(0, i).toString('latin1'), 10);
    if (!Number.isSafeInteger(len) || len <= i + 1 || len > buf.length) throw new Error('corrupt PAX header');
    const record = buf.subarray(i + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new Error('corrupt PAX header');
    const key = record.subarray(0, eq).toString('utf8');
    const value = record.subarray(eq + 1);
    result[key] = key.startsWith(XATTR) ? value.toString('latin1') : value.toString('utf8');
    buf = buf.subarray(len);
  }
  return result;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function encodePax(opts: { name?: string; linkname?: string; pax?: Record<string, string> }): Buffer {
  const records: Buffer[] = [];
  if (opts.name) records.push(paxRecord('path', Buffer.from(opts.name, 'utf8')));
  if (opts.linkname) records.push(paxRecord('linkpath', Buffer.from(opts.linkname, 'utf8')));
  for (const [key, value] of Object.entries(opts.pax ?? {})) {
    records.push(paxRecord(key, Buffer.from(value, key.startsWith(XATTR) ? 'latin1' : 'utf8')));
  }
  return Buffer.concat(records);
}

tarHeaders.decodePax = decodePax;
tarHeaders.encodePax = encodePax;

/** xattrs of a header: name → raw value. */
export function headerXattrs(h: TarHeader): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(h.pax ?? {})) {
    if (k.startsWith(XATTR) && k.length > XATTR.length) out.set(k.slice(XATTR.length), Buffer.from(v, 'latin1'));
  }
  return out;
}

/** PAX records for a set of xattrs (for writing). */
export function xattrPax(xattrs: Map<string, Buffer>): Record<string, string> | undefined {
  if (xattrs.size === 0) return undefined;
  const pax: Record<string, string> = {};
  for (const [k, v] of xattrs) pax[XATTR + k] = v.toString('latin1');
  return pax;
}

// Larger than any file a layer could hold (and within 2^53).
const MAX_ENTRY_SIZE = 2 ** 50;
const KNOWN_TYPES = new Set<string>(['file', 'link', 'symlink', 'character-device', 'block-device', 'directory', 'fifo', 'contiguous-file']);

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; whatever the consumer leaves unread is skipped. */
  body: AsyncIterable<Buffer>;
}

/** Watches the raw tar bytes for the end-of-archive block (the last 512 bytes all zero). */
class EndMarker {
  private tail: Buffer = Buffer.alloc(0);
  total = 0;
  feed(chunk: Buffer): void {
    this.total += chunk.length;
    this.tail = chunk.length >= 512 ? chunk.subarray(chunk.length - 512) : Buffer.concat([this.tail, chunk]).subarray(-512);
  }
  ok(): boolean {
    return this.total > 0 && this.total % 512 === 0 && this.tail.length === 512 && this.tail.every((b) => b === 0);
  }
}

function corrupt(what: string, e: unknown): MydockerError {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof MydockerError) return e; // already says what went wrong
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  // The disk failed, not the archive: a full disk (ENOSPC), a quota, an I/O error while
  // writing what was unpacked. Saying "corrupt" would send the user after a good file.
  const sys = e as NodeJS.ErrnoException;
  if (sys.syscall) {
    const err = systemError(`${what}: cannot unpack it: ${sys.syscall}${sys.path ? ` ${sys.path}` : ''}`, e);
    if (err instanceof MydockerError) return err;
  }
  if (code.startsWith('Z_') || /unexpected end of file|incorrect header check|invalid (block|distance|stored)/.test(msg)) {
    return new InputError(`${what}: corrupt or truncated compressed data (${msg})`);
  }
  if (/Unexpected end of data/.test(msg)) return new InputError(`${what}: truncated archive (unexpected end of data)`);
  if (/Invalid tar header|Maybe the tar is corrupted/.test(msg)) return new InputError(`${what}: corrupt tar archive (invalid header)`);
  return new InputError(`${what}: corrupt tar archive (${msg})`);
}

/**
 * The entries of a tar stream, each checked; `what` names the archive in errors. The caller
 * iterates; breaking out (or throwing) stops the input.
 */
export async function* readTar(input: Readable, what: string): AsyncGenerator<TarEntry> {
  const extract = tarStream.extract();
  const marker = new EndMarker();
  let inputError: unknown = null;
  input.on('data', (c: Buffer) => marker.feed(c));
  input.on('error', (e) => {
    inputError = e;
    extract.destroy(e);
  });
  input.pipe(extract);
  const it = extract[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<tarStream.Entry>;
      try {
        next = await it.next();
      } catch (e) {
        throw corrupt(what, inputError ?? e);
      }
      if (next.done) break;
      const entry = next.value;
      const h = entry.header as unknown as TarHeader;
      if (!KNOWN_TYPES.has(h.type)) {
        throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: unsupported entry type ${h.type ?? '(unknown)'}`);
      }
      if (!Number.isSafeInteger(h.size) || h.size < 0 || h.size > MAX_ENTRY_SIZE) {
        throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: invalid size ${String(h.size)}`);
      }
      for (const f of ['mode', 'uid', 'gid'] as const) {
        if (!Number.isSafeInteger(h[f]) || h[f] < 0) throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: invalid ${f} ${String(h[f])}`);
      }
      if (h.name.includes('\0') || (h.linkname ?? '').includes('\0')) throw new InputError(`${what}: tar entry ${JSON.stringify(h.name)}: NUL in a name`);
      let consumed = false;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]() {
          consumed = true;
          return (async function* () {
            try {
              for await (const chunk of entry as unknown as AsyncIterable<Buffer>) yield chunk;
            } catch (e) {
              throw corrupt(what, inputError ?? e);
            }
          })();
        },
      };
      yield { header: h, body };
      try {
        if (!consumed) for await (const _ of entry as unknown as AsyncIterable<Buffer>) void _;
      } catch (e) {
        throw corrupt(what, inputError ?? e);
      }
    }
    if (inputError) throw corrupt(what, inputError);
    if (!marker.ok()) throw new InputError(`${what}: truncated archive (no end-of-archive block)`);
  } finally {
    input.unpipe(extract);
    extract.destroy();
    input.destroy();
  }
}

/** A tar writer (tar-stream's pack): headers and the end-of-archive block. */
export function tarWriter(): tarStream.Pack {
  return tarStream.pack();
}

/** Write one entry and wait until tar-stream has taken it. `data` streams a file's content. */
export function writeEntry(
  pack: tarStream.Pack,
  header: TarHeader,
  data?: Buffer | AsyncIterable<Buffer>,
): Promise<void> {
  // Directories end with "/" as docker's and GNU tar's do (tar-stream adds none).
  const name = header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name;
  const h = { ...header, name, pax: header.pax ?? undefined } as unknown as tarStream.Headers;
  return new Promise<void>((resolve, reject) => {
    // An entry's sink errors when the pack is destroyed under it (its reader failed: a full
    // disk while committing); unheard, that 'error' would crash the process. It is the
    // reader's failure that gets reported, so ours only settles the promise.
    if (data === undefined || Buffer.isBuffer(data)) {
      const buf = data ?? (header.type === 'file' || header.type === 'contiguous-file' ? Buffer.alloc(0) : undefined);
      pack.entry(h, buf, (err) => (err ? reject(err) : resolve())).on('error', reject);
      return;
    }
    const sink = pack.entry(h, (err) => (err ? reject(err) : resolve()));
    sink.on('error', reject);
    (async () => {
      for await (const chunk of data) {
        if (!sink.write(chunk)) await new Promise((r) => sink.once('drain', r));
      }
      sink.end();
    })().catch((e) => {
      sink.destroy(e);
      reject(e);
    });
  });
}
