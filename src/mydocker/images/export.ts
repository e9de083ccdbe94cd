// mydocker export: a directory tree (a container's merged rootfs) as a plain tar, to a file
// (written to a temp file and renamed: never half an archive under the name) or a stream.
import { closeSync, createWriteStream, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { InputError } from '../errors.js';
import type { Progress } from './types.js';
import { tarWriter } from './tar.js';
import { packTree } from './tree-tar.js';

export interface ExportOptions {
  /** Container paths whose contents stay out (volumes). */
  exclude?: string[];
  progress?: Progress;
}

async function writeTree(dir: string, out: Writable, opts: ExportOptions): Promise<void> {
  const pack = tarWriter();
  const finished = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    pack.on('error', reject);
  });
  pack.pipe(out);
  let done = 0;
  const onBytes = (n: number) => {
    done += n;
    opts.progress?.onLayer?.({ digest: 'export', phase: 'Exporting', done });
  };
  try {
    await packTree(dir, pack, { exclude: opts.exclude ?? [], onBytes });
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    throw e;
  }
  await finished;
}

/** Write `dir` as a tar to `out`: a path, '-' (stdout) or a stream. */
export async function exportTree(dir: string, out: string | Writable, opts: ExportOptions = {}): Promise<void> {
  if (typeof out !== 'string') return writeTree(dir, out, opts);
  if (out === '-') return writeTree(dir, process.stdout, opts);
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  try {
    await writeTree(dir, createWriteStream(tmp, { mode: 0o644 }), opts);
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new InputError(`export: ${out}: ${(e as Error).message}`);
    throw e;
  }
}
