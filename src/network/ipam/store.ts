// mydocker-ipam's allocation store: one directory per network, one file per allocated address.
//
//   <dataDir>/<network>/lock               flock(2)ed (exclusive) around every read-decide-write
//   <dataDir>/<network>/10.88.0.5          "<containerId>\n<ifname>\n": who holds the address
//   <dataDir>/<network>/last_reserved_ip.0 the last address handed out in range set 0 (round robin)
//
// Crash safety: an address file appears with its whole content or not at all (written to a
// temp file, then link(2)ed to its name, which fails if the name exists). A temp file left by
// a process that died is removed by the next holder of the lock, since nobody else can be
// writing one. The lock itself dies with its holder (flock is released when the fd closes).
import { linkSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KernelError } from '../../kernel/ffi.js';
import { withLock } from '../lockfile.js';
import { CniError, ErrCode } from '../cni/types.js';
import { formatIPv4, tryParseIPv4 } from '../ip4.js';

export interface Owner {
  containerId: string;
  ifname: string;
}

const TMP_PREFIX = '.tmp-';
const LAST_PREFIX = 'last_reserved_ip.';

export class IpamStore {
  constructor(readonly dir: string) {}

  /** Run `fn` holding the network's lock. */
  locked<T>(fn: () => T): T {
    try {
      return withLock(join(this.dir, 'lock'), () => {
        this.sweepTemps();
        return fn();
      });
    } catch (e) {
      if (e instanceof KernelError) throw new CniError(ErrCode.IOFailure, e.message);
      if ((e as NodeJS.ErrnoException).syscall) throw new CniError(ErrCode.IOFailure, `ipam store ${this.dir}: ${(e as Error).message}`);
      throw e;
    }
  }

  private sweepTemps(): void {
    for (const name of readdirSync(this.dir)) if (name.startsWith(TMP_PREFIX)) rmSync(join(this.dir, name), { force: true });
  }

  /** Every allocated address and its owner (null: a file we cannot read as ours; never reused). */
  list(): Map<number, Owner | null> {
    const out = new Map<number, Owner | null>();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw e;
    }
    for (const name of names) {
      const ip = tryParseIPv4(name);
      if (ip === null) continue;
      let owner: Owner | null = null;
      try {
        const [containerId, ifname] = readFileSync(join(this.dir, name), 'utf8').split('\n');
        if (containerId && ifname) owner = { containerId, ifname };
      } catch {
        /* unreadable: keep it allocated */
      }
      out.set(ip, owner);
    }
    return out;
  }

  /** Take `ip` for `owner`; false when someone holds it already. */
  reserve(ip: number, owner: Owner): boolean {
    const tmp = join(this.dir, `${TMP_PREFIX}${process.pid}`);
    writeFileSync(tmp, `${owner.containerId}\n${owner.ifname}\n`, { mode: 0o600 });
    try {
      linkSync(tmp, join(this.dir, formatIPv4(ip)));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      unlinkSync(tmp);
    }
  }

  release(ip: number): void {
    rmSync(join(this.dir, formatIPv4(ip)), { force: true });
  }

  lastReserved(set: number): number | null {
    try {
      return tryParseIPv4(readFileSync(join(this.dir, `${LAST_PREFIX}${set}`), 'utf8').trim());
    } catch {
      return null;
    }
  }

  setLastReserved(set: number, ip: number): void {
    const path = join(this.dir, `${LAST_PREFIX}${set}`);
    const tmp = join(this.dir, `${TMP_PREFIX}${process.pid}-last`);
    writeFileSync(tmp, formatIPv4(ip), { mode: 0o600 });
    renameSync(tmp, path);
  }

  /**
   * Remove the whole store of the network when nothing is allocated in it (`network rm`);
   * false when an address is still held. Called under the lock: a process that was waiting
   * for it finds the directory gone and fails its ADD, as it should for a removed network.
   */
  drop(): boolean {
    if (this.list().size > 0) return false;
    rmSync(this.dir, { recursive: true, force: true });
    return true;
  }
}
