// The engine: mydocker as a library. One object per data root, holding the stores and the
// runtime (in-process, through its public façade). The CLI's verbs are thin calls on this.
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeAtomic } from '../container/store.js';
import { Runtime } from '../container/runtime.js';
import { distScriptPath } from '../process/launch.js';
import { ContainerStore } from './containers/store.js';
import { ImageStore } from './images/store.js';
import { NetworkStore } from './network/store.js';
import { DataRoot } from './paths.js';
import { NotFoundError } from './errors.js';
import type { Image } from './images/types.js';
import { VolumeStore } from './volumes/store.js';

export interface EngineOptions {
  /** --root: moves every tree (tests). */
  root?: string;
}

export class Engine {
  readonly paths: DataRoot;
  readonly rootGiven: string | undefined;
  readonly containers: ContainerStore;
  readonly volumes: VolumeStore;
  private runtime_?: Runtime;
  private images_?: ImageStore;
  private networks_?: NetworkStore;

  constructor(opts: EngineOptions = {}) {
    this.rootGiven = opts.root;
    this.paths = new DataRoot(opts.root);
    this.containers = new ContainerStore(this.paths);
    this.volumes = new VolumeStore(this.paths);
  }

  get runtime(): Runtime {
    return (this.runtime_ ??= new Runtime(this.paths.runtime));
  }

  get images(): ImageStore {
    return (this.images_ ??= new ImageStore(this.paths));
  }

  get networks(): NetworkStore {
    return (this.networks_ ??= new NetworkStore(this.paths));
  }

  /** An image by reference, or null (the store throws NotFoundError). */
  findImage(ref: string): Image | null {
    try {
      return this.images.get(ref);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /** The runtime's CLI (conmon runs `create` through it) and our own (conmon's exit command). */
  get runtimeCli(): string {
    return distScriptPath('mydocker-runc.js');
  }

  get mydockerCli(): string {
    return distScriptPath('mydocker.js');
  }

  /**
   * The program conmon runs as "the runtime": a two-line shell script under the run dir that
   * execs this very node on the runtime's CLI. conmon execs its runtime directly, and the CLI's
   * `#!/usr/bin/env -S … node` would depend on env(1) and on node being on conmon's PATH.
   */
  runtimeForMonitor(): string {
    const path = join(this.paths.run, 'mydocker-runc');
    const text = `#!/bin/sh\nexec ${shellQuote(realpathSync(process.execPath))} ${shellQuote(this.runtimeCli)} "$@"\n`;
    try {
      if (readFileSync(path, 'utf8') === text) return path;
    } catch {
      /* first use */
    }
    mkdirSync(this.paths.run, { recursive: true, mode: 0o711 });
    writeAtomic(path, text, 0o755);
    return path;
  }

  /** Global flags that make another mydocker process see this same engine. */
  globalArgs(): string[] {
    return this.rootGiven ? ['--root', this.paths.lib] : [];
  }

  /**
   * The environment for conmon and what it runs (the runtime, our cleanup): ours, without what
   * only slows a Node start (NODE_EXTRA_CA_CERTS: ~30-60 ms to parse a CA bundle nobody uses;
   * our shebang's copy of it, for the same reason), and with node's directory on PATH (dist/*.js
   * start with `#!/usr/bin/env -S … node`).
   */
  monitorEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    delete env.MYDOCKER_EXTRA_CA_CERTS;
    const nodeDir = dirname(realpathSync(process.execPath));
    const path = env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    if (!path.split(':').includes(nodeDir)) env.PATH = `${nodeDir}:${path}`;
    return env;
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
