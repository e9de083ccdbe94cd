// What the container side needs from the image store. The store (store.ts) implements it; a
// container never touches blobs or the index itself.
import type { Image } from './types.js';

export interface ImageBackend {
  /** A user's reference (name[:tag], name@digest, id or unique id prefix) → image, or null. */
  resolve(ref: string): Image | null;
  /** The default image (busybox, built into mydocker), loaded into the store on first need. */
  ensureDefault(): Image;
  /** Unpacked layer directories of an image, bottom-most first (unpacks what is missing). */
  layerDirs(image: Image): string[];
  /** An image by id ("sha256:…"), or null (containers keep the id they were made from). */
  byId(id: string): Image | null;
}
