import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { defaultSpec } from '../../spec/defaults.js';
import type { Globals } from '../globals.js';

export default function (o: { bundle: string; rootless?: boolean }, _g: Globals): void {
  const path = join(o.bundle, 'config.json');
  if (existsSync(path)) throw new UsageError(`File ${path} exists. Remove it first`);
  writeFileSync(path, `${JSON.stringify(defaultSpec({ rootless: o.rootless ?? false }), null, '\t')}\n`);
}
