// The build cache: which image a step made, keyed by what decides its result — the parent image
// and the step's full description (the instruction after substitution, the build args a RUN
// sees, the content hash of COPY/ADD sources). Docker's classic builder finds a child image of
// the parent whose recorded command matches; we keep that mapping in one small index file in
// the image store, written atomically under a lock. An entry whose image was removed since is
// a miss (and is dropped at the next write).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../../container/store.js';
import type { Engine } from '../engine.js';
import { lock } from '../images/locks.js';

interface CacheFile {
  version: 1;
  /** key → image id */
  steps: Record<string, string>;
}

export function cacheKey(parent: string, step: string): string {
  return createHash('sha256').update(`${parent}\n${step}`).digest('hex');
}

export class BuildCache {
  private readonly path: string;

  constructor(private readonly engine: Engine) {
    this.path = join(engine.paths.images, 'build-cache.json');
  }

  private read(): CacheFile {
    try {
      const f = JSON.parse(readFileSync(this.path, 'utf8')) as CacheFile;
      if (f.version === 1 && f.steps && typeof f.steps === 'object') return f;
    } catch {
      /* missing or damaged: an empty cache (a miss is always correct) */
    }
    return { version: 1, steps: {} };
  }

  /** The image a step made before, if it is still in the store. */
  lookup(key: string): string | null {
    const id = this.read().steps[key];
    if (!id) return null;
    return this.engine.findImage(id) ? id : null;
  }

  async record(key: string, imageId: string): Promise<void> {
    mkdirSync(this.engine.paths.images, { recursive: true, mode: 0o700 });
    const release = await lock(join(this.engine.paths.images, 'build-cache.lock'), 'exclusive');
    try {
      const f = this.read();
      f.steps[key] = imageId;
      // Entries of removed images go, so the file does not grow with every build forever.
      const live = new Set(this.engine.images.list().map((i) => i.id));
      for (const [k, v] of Object.entries(f.steps)) if (!live.has(v)) delete f.steps[k];
      writeAtomic(this.path, JSON.stringify(f), 0o600);
    } finally {
      release();
    }
  }
}
