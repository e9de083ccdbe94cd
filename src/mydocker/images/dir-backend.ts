// A stand-in image store with one image, busybox, whose only layer is a directory (the
// fixtures' rootfs). Used until the content store lands, and by tests that need an image
// without one.
import { createHash } from 'node:crypto';
import type { ImageBackend } from './backend.js';
import type { Image } from './types.js';

export class DirImages implements ImageBackend {
  private readonly image: Image;

  constructor(private readonly rootfs: string) {
    const config = {
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers' as const, diff_ids: [`sha256:${createHash('sha256').update(rootfs).digest('hex')}`] },
    };
    const id = `sha256:${createHash('sha256').update(JSON.stringify(config)).digest('hex')}`;
    this.image = { id, repoTags: ['docker.io/library/busybox:latest'], repoDigests: [], manifestDigest: id, created: new Date(0).toISOString(), size: 0, config };
  }

  resolve(ref: string): Image | null {
    const r = ref.replace(/^(docker\.io\/)?(library\/)?/, '');
    if (r === 'busybox' || r === 'busybox:latest' || this.image.id === ref || this.image.id.slice(7).startsWith(ref)) return this.image;
    return null;
  }

  ensureDefault(): Image {
    return this.image;
  }

  layerDirs(): string[] {
    return [this.rootfs];
  }

  byId(id: string): Image | null {
    return id === this.image.id ? this.image : null;
  }
}
