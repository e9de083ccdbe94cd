// What one pull, push or login needs: the data root's registry settings and credentials file,
// one keep-alive transport, and one Registry per domain (so a registry is pinged once and its
// tokens are reused across repositories).
import { readCredentials, credentialsPath, type Credentials } from './credentials.js';
import { Registry } from './client.js';
import { authKey, loadSettings, type RegistrySettings } from './hosts.js';
import { Transport } from './http.js';

export interface SessionOptions {
  /** --insecure-registry values, on top of daemon.json's insecure-registries. */
  insecureRegistries?: string[];
  /** The docker config.json with credentials (default: credentialsPath(lib)). */
  credentialsFile?: string;
  /** Credentials to use instead of the file's (login). */
  credentials?: Credentials;
}

export class RegistrySession {
  readonly transport = new Transport();
  readonly settings: RegistrySettings;
  readonly credentialsFile: string;
  private readonly registries = new Map<string, Registry>();

  constructor(
    lib: string,
    private readonly opts: SessionOptions = {},
  ) {
    this.settings = loadSettings(lib, opts.insecureRegistries ?? []);
    this.credentialsFile = opts.credentialsFile ?? credentialsPath(lib);
  }

  credentialsFor(domain: string): Credentials | undefined {
    return this.opts.credentials ?? readCredentials(this.credentialsFile, authKey(domain));
  }

  registry(domain: string): Registry {
    let r = this.registries.get(domain);
    if (!r) {
      r = new Registry(domain, this.transport, this.settings, this.credentialsFor(domain));
      this.registries.set(domain, r);
    }
    return r;
  }

  close(): void {
    this.transport.close();
  }
}
