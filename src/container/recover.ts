// `delete --force` of a container whose state.json is broken (truncated by a full disk or a
// crash, or another runtime's file under our root): remove what can still be found rather than
// refuse, so that no init keeps running and holding its cgroup because a file went bad.
//   - the init: by the pid and start time still readable in the text (never by a pid alone:
//     a recycled pid must not be hit), and in any case by the container's cgroup;
//   - the cgroup: the record in the text if it is whole, else the cgroupsPath of the config
//     copy create kept, else the default path for the id;
//   - the state directory.
import { cgroupManager } from '../cgroups/index.js';
import type { CgroupSpec } from '../cgroups/manager.js';
import { RuntimeError } from '../errors.js';
import { killEverything } from './lifecycle.js';
import type { PersistedState } from './state.js';
import type { LockedDir, Store } from './store.js';

export function removeBroken(store: Store, dir: LockedDir, id: string): void {
  const text = store.readRaw(id);
  const pid = Number(/"pid"\s*:\s*(\d+)/.exec(text)?.[1] ?? 0);
  const pidStartTime = /"pidStartTime"\s*:\s*"(\d+)"/.exec(text)?.[1] ?? '';
  const spec = recoverCgroupSpec(store, id, text);
  const cg = cgroupManager(spec);
  // Without a start time the pid proves nothing: leave it to the cgroup.
  const state = { id, pid: pidStartTime ? pid : 0, pidStartTime } as PersistedState;
  killEverything(state, cg);
  try {
    cg.destroy();
  } catch (e) {
    throw new RuntimeError(`delete ${id}: remove cgroup: ${(e as Error).message}`);
  }
  dir.remove();
}

/** The cgroup record from state.json's text, whole, or from what else is left. */
export function recoverCgroupSpec(store: Store, id: string, text: string): CgroupSpec {
  const recorded = objectAfter(text, '"cgroup"');
  if (recorded && typeof recorded.id === 'string' && recorded.id === id) return recorded as unknown as CgroupSpec;
  let cgroupsPath: unknown;
  try {
    cgroupsPath = (store.readConfig(id) as { linux?: { cgroupsPath?: unknown } } | null)?.linux?.cgroupsPath;
  } catch {
    /* the config copy is broken too */
  }
  return typeof cgroupsPath === 'string' && cgroupsPath.startsWith('/') ? { id, cgroupsPath } : { id };
}

/** The JSON object that follows `key:` in `text`, if it is complete (strings respected). */
export function objectAfter(text: string, key: string): Record<string, unknown> | undefined {
  const at = text.indexOf(`${key}:`);
  if (at < 0) return undefined;
  const start = text.indexOf('{', at + key.length + 1);
  if (start < 0 || text.slice(at + key.length + 1, start).trim()) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
