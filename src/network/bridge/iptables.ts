// Running iptables-restore and iptables-save (the nft or legacy backend, whichever `iptables`
// is): one process per transaction. The tools are found on PATH and in the sbin directories,
// since a hook or a CNI client may run us with a bare environment.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CniError, ErrCode } from '../cni/types.js';

const require = createRequire(import.meta.url);
const childProcess = () => require('node:child_process') as typeof import('node:child_process');

const found = new Map<string, string>();

export function findTool(name: string): string {
  let p = found.get(name);
  if (p) return p;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/local/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    try {
      accessSync(join(d, name), constants.X_OK);
      p = join(d, name);
      found.set(name, p);
      return p;
    } catch {
      /* next */
    }
  }
  throw new CniError(ErrCode.Internal, `${name}: not found (install iptables)`);
}

/**
 * Apply `text` with iptables-restore --noflush; throws with the tool's own complaint.
 * `inheritFds` go to the child (from fd 3): a lock on them outlives us while it runs.
 */
export function iptablesRestore(text: string, inheritFds: number[] = []): void {
  if (!text) return;
  const res = childProcess().spawnSync(findTool('iptables-restore'), ['--noflush', '--wait'], { input: text, stdio: ['pipe', 'ignore', 'pipe', ...inheritFds] });
  if (res.error) throw new CniError(ErrCode.Internal, `iptables-restore: ${res.error.message}`);
  if (res.status !== 0) {
    const why = res.stderr.toString().trim().split('\n').filter((l) => !l.startsWith('Try `'));
    throw new CniError(ErrCode.Internal, `iptables-restore: ${why.join('; ') || `exit status ${res.status}`}`);
  }
}

export function iptablesSave(): string {
  const res = childProcess().spawnSync(findTool('iptables-save'), [], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (res.error) throw new CniError(ErrCode.Internal, `iptables-save: ${res.error.message}`);
  if (res.status !== 0) throw new CniError(ErrCode.Internal, `iptables-save: ${res.stderr.toString().trim() || `exit status ${res.status}`}`);
  return res.stdout.toString();
}
