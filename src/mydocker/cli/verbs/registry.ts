// Registry verbs: pull, push, login, logout — thin calls on ../../registry/.
import { InputError } from '../../errors.js';
import { emitImage } from '../../events/journal.js';
import { parseReference } from '../../images/reference.js';
import { transferRenderer } from '../../registry/progress.js';
import { engineFor, type Globals } from '../globals.js';

interface CommonOptions {
  insecureRegistry?: string[];
}

export async function pull(name: string, o: CommonOptions & { platform?: string; quiet?: boolean }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const { pullImage } = await import('../../registry/pull.js');
  const ref = parseReference(name);
  if (ref.tag === undefined && ref.digest === undefined && !o.quiet) process.stdout.write('Using default tag: latest\n');
  const reporter = transferRenderer(process.stdout, { quiet: !!o.quiet });
  try {
    const r = await pullImage(engine.images, name, {
      ...(o.platform ? { platform: o.platform } : {}),
      reporter,
      insecureRegistries: o.insecureRegistry ?? [],
      warn: (l) => void process.stderr.write(`${l}\n`),
    });
    emitImage(engine, 'pull', r.ref, parseReference(r.ref).name);
    process.stdout.write(`${r.ref}\n`);
  } finally {
    reporter.stop();
  }
}

export async function push(name: string, o: CommonOptions & { quiet?: boolean; allTags?: boolean }, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const { pushImage } = await import('../../registry/push.js');
  const ref = parseReference(name);
  if (o.allTags && ref.tag !== undefined) throw new InputError(`push: --all-tags: ${name} names a tag already`);
  if (ref.tag === undefined && ref.digest === undefined && !o.allTags && !o.quiet) process.stdout.write('Using default tag: latest\n');
  const reporter = transferRenderer(process.stdout, { quiet: !!o.quiet });
  try {
    const results = await pushImage(engine.images, name, { reporter, allTags: !!o.allTags, insecureRegistries: o.insecureRegistry ?? [] });
    for (const r of results) emitImage(engine, 'push', `${ref.name}:${r.tag}`, ref.name);
    if (o.quiet) for (const r of results) process.stdout.write(`${ref.name}:${r.tag}\n`);
  } finally {
    reporter.stop();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A line typed on the terminal; `hidden`: not echoed (a password). */
async function prompt(question: string, hidden: boolean): Promise<string> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    let asked = false;
    out._writeToOutput = (s: string) => {
      if (!asked) {
        asked = true;
        process.stdout.write(s);
      }
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
    if (hidden) process.stdout.write('\n');
  }
}

export async function login(
  server: string | undefined,
  o: CommonOptions & { username?: string; password?: string; passwordStdin?: boolean },
  g: Globals,
): Promise<void> {
  const engine = engineFor(g);
  const { login: doLogin } = await import('../../registry/login.js');
  let username = o.username;
  let password = o.password;
  if (o.passwordStdin) {
    if (password !== undefined) throw new InputError('login: --password and --password-stdin are mutually exclusive');
    if (!username) throw new InputError('login: --password-stdin needs --username');
    password = (await readStdin()).replace(/\r?\n$/, '');
  } else if (password !== undefined) {
    process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  }
  if (!username || password === undefined) {
    if (!process.stdin.isTTY) throw new InputError('login: no terminal to ask on: give --username and --password-stdin');
    username ||= (await prompt('Username: ', false)).trim();
    if (password === undefined) password = await prompt('Password: ', true);
  }
  const r = await doLogin(engine.paths.lib, server, username, password, { insecureRegistries: o.insecureRegistry ?? [] });
  process.stderr.write(`WARNING! Your password will be stored unencrypted in ${r.file}.\n`);
  process.stdout.write('Login Succeeded\n');
}

export async function logout(server: string | undefined, _o: unknown, g: Globals): Promise<void> {
  const engine = engineFor(g);
  const { logout: doLogout } = await import('../../registry/login.js');
  const r = doLogout(engine.paths.lib, server);
  process.stdout.write(r.removed ? `Removing login credentials for ${r.key}\n` : `Not logged in to ${r.key}\n`);
}
