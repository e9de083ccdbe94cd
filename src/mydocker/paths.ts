// Where mydocker keeps things. Two trees, as docker and podman:
//   lib  (default /var/lib/mydocker): what survives a reboot — images, layers, containers'
//        records and writable layers, volumes, networks;
//   run  (default /run/mydocker): what dies with it — the runtime's state, monitors' sockets,
//        locks of running containers.
// `--root DIR` (or MYDOCKER_ROOT) moves all of it: lib = DIR, run = DIR/run. Tests always use
// their own root, so they never see a user's data, and two roots never see each other.
import { join, resolve } from 'node:path';
import { InputError } from './errors.js';

export const DEFAULT_LIB = '/var/lib/mydocker';
export const DEFAULT_RUN = '/run/mydocker';

export class DataRoot {
  readonly lib: string;
  readonly run: string;

  constructor(root?: string) {
    if (root !== undefined && root !== '') {
      if (!root.startsWith('/')) throw new InputError(`--root ${root}: must be an absolute path`);
      this.lib = resolve(root);
      this.run = join(this.lib, 'run');
    } else {
      this.lib = DEFAULT_LIB;
      this.run = DEFAULT_RUN;
    }
  }

  /** The image store: blobs (content-addressed), the image index, ingest (temp). */
  get images(): string {
    return join(this.lib, 'images');
  }
  /** Unpacked layers, one directory per diff id, shared read-only by every container. */
  get layers(): string {
    return join(this.lib, 'layers');
  }
  /** One directory per container: its record, writable layer, log, generated files. */
  get containers(): string {
    return join(this.lib, 'containers');
  }
  get volumes(): string {
    return join(this.lib, 'volumes');
  }
  get networks(): string {
    return join(this.lib, 'networks');
  }
  /** Scratch space on the same filesystem as layers/ and containers/ (so rename(2) moves into place). */
  get tmp(): string {
    return join(this.lib, 'tmp');
  }
  /** mydocker-runc's state root (the runtime library is driven with this root). */
  get runtime(): string {
    return join(this.run, 'runtime');
  }
  /** Per-container run-time files: conmon's pid file, attach socket, exit file. */
  get monitors(): string {
    return join(this.run, 'monitors');
  }
  get locks(): string {
    return join(this.run, 'locks');
  }
  /**
   * Networking's run-time state, all of it under the root: IPAM allocations (ipam/), the
   * bridge plugin's attachment records and host-port registry (cni/), and the OCI hook's
   * per-container state with the pinned network namespaces (containers/).
   */
  get networkState(): string {
    return join(this.run, 'networks');
  }
}
