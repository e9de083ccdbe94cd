// linux.resources.unified: raw cgroup v2 files, written as given, after every other field (so
// they override). On a hybrid host a key is accepted only when its controller is enabled in
// the unified hierarchy for our cgroup (or it is a core "cgroup.*" file); a key of a
// controller that lives on a v1 hierarchy there would be a v2 write with no effect and is
// refused. The manager refuses `unified` outright on a pure v1 host.
import { ConfigError, UnsupportedError } from '../../errors.js';
import type { CgroupDir } from '../dir.js';

const F = 'linux.resources.unified';

export function applyUnified(dir: CgroupDir, unified: Record<string, string>, hybrid: boolean): void {
  const controllers = new Set((dir.readIf('cgroup.controllers') ?? '').split(/\s+/).filter(Boolean));
  for (const [key, value] of Object.entries(unified)) {
    const field = `${F}[${JSON.stringify(key)}]`;
    if (!/^[a-z0-9_]+\.[a-zA-Z0-9_.]+$/.test(key) || key.includes('..')) {
      throw new ConfigError(`${field}: not a cgroup v2 file name`);
    }
    if (typeof value !== 'string') throw new ConfigError(`${field}: the value must be a string`);
    const ctrl = key.slice(0, key.indexOf('.'));
    if (ctrl !== 'cgroup' && !controllers.has(ctrl)) {
      throw new UnsupportedError(
        hybrid
          ? `${field}: the ${ctrl} controller is not in the unified (cgroup v2) hierarchy of this hybrid host; it is on a v1 hierarchy, so a v2 key cannot set it`
          : `${field}: the ${ctrl} controller is not enabled in ${dir.path}`,
      );
    }
    if (!dir.has(key)) throw new UnsupportedError(`${field}: ${dir.file(key)} does not exist`);
    dir.write(field, key, value);
  }
}
