// The index of images: images/index.json, one record per image id (the config digest) with
// its manifest, names and sizes. Readers read it without a lock (it is only ever replaced
// by rename); writers take images/index.lock, re-read, change, write a temp file, fsync and
// rename.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from './blobs.js';
import { lock } from './locks.js';

export interface ImageRecord {
  /** Config digest (the image id). */
  id: string;
  /** Digest of the stored OCI manifest. */
  manifest: string;
  /** Full normalized references: docker.io/library/busybox:latest. */
  repoTags: string[];
  /** name@sha256:… of the manifest in a registry. */
  repoDigests: string[];
  /** config.created, or when it entered the store. */
  created: string;
  /** Sum of the layers' sizes. */
  size: number;
  /** When it entered the store. */
  added: string;
  lastTagTime?: string;
  /** The image this one was committed on (docker's Parent; rmi refuses to orphan children). */
  parent?: string;
}

export interface IndexFile {
  version: 1;
  images: Record<string, ImageRecord>;
}

export class ImageIndex {
  constructor(readonly root: string) {}

  get path(): string {
    return join(this.root, 'index.json');
  }

  read(): IndexFile {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as IndexFile;
      if (parsed && parsed.version === 1 && parsed.images) return parsed;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.path}: unreadable image index: ${(e as Error).message}`);
    }
    return { version: 1, images: {} };
  }

  /** Change the index under its lock; `fn` mutates the fresh copy and returns a result. */
  async update<T>(fn: (index: IndexFile) => T | Promise<T>): Promise<T> {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const release = await lock(join(this.root, 'index.lock'), 'exclusive');
    try {
      const index = this.read();
      const result = await fn(index);
      this.write(index);
      return result;
    } finally {
      release();
    }
  }

  private write(index: IndexFile): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    const data = Buffer.from(JSON.stringify(index, null, 1));
    const fd = openSync(tmp, 'w', 0o600);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    fsyncDir(this.root);
  }
}
