// docker login / logout: check credentials against the registry (a bearer token from its
// realm, or `GET /v2/` with Basic), then file them in the config.json (credentials.ts).
import { InputError } from '../errors.js';
import { keyDomain, removeCredentials, saveCredentials, serverKey } from './credentials.js';
import { RegistrySession, type SessionOptions } from './session.js';

export interface LoginResult {
  /** The key the credentials are filed under ("127.0.0.1:5000", "https://index.docker.io/v1/"). */
  key: string;
  file: string;
}

export async function login(lib: string, server: string | undefined, username: string, password: string, opts: SessionOptions = {}): Promise<LoginResult> {
  if (!username) throw new InputError('login: a username is required');
  if (!password) throw new InputError('login: a password is required');
  const key = serverKey(server);
  const session = new RegistrySession(lib, { ...opts, credentials: { username, password } });
  try {
    await session.registry(keyDomain(key)).checkLogin();
    saveCredentials(session.credentialsFile, key, { username, password });
    return { key, file: session.credentialsFile };
  } finally {
    session.close();
  }
}

export function logout(lib: string, server: string | undefined, opts: SessionOptions = {}): LoginResult & { removed: boolean } {
  const key = serverKey(server);
  const session = new RegistrySession(lib, opts);
  try {
    return { key, file: session.credentialsFile, removed: removeCredentials(session.credentialsFile, key) };
  } finally {
    session.close();
  }
}
