// Sizes as docker and runc spell them on the command line.
import { UsageError } from '../errors.js';

/** docker/go-units RAMInBytes: "512", "64k", "1.5m", "2GiB" (binary multiples, any case). */
export function ramInBytes(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(value);
  if (!m) throw new UsageError(`invalid value for ${flag}: invalid size: ${JSON.stringify(value)}`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = 1024 ** (unit ? 'kmgtp'.indexOf(unit) + 1 : 0);
  const bytes = Math.trunc(Number.parseFloat(m[1]!) * mult);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`invalid value for ${flag}: ${JSON.stringify(value)} is too large`);
  return bytes;
}
