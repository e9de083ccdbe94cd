// `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,…]`, docker's long form of
// -v and --tmpfs. Its rules differ from -v's where docker's do: the default type is a volume,
// a bind's source must already exist (-v would create it), and every key is checked.
import { statSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { ramInBytes } from '../../spec/units.js';
import { InputError } from '../errors.js';
import type { MountPoint } from './record.js';

/** docker's HostConfig.Mounts entry (what `inspect` shows for --mount). */
export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation: string };
  VolumeOptions?: { NoCopy: boolean };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

/** Split docker's CSV: commas separate fields, a double-quoted field may hold commas. */
function csvFields(spec: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of spec) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw new InputError(`invalid argument ${JSON.stringify(spec)} for "--mount" flag: unterminated quote`);
  out.push(cur);
  return out;
}

function bool(spec: string, key: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InputError(`invalid argument ${JSON.stringify(spec)} for "--mount" flag: invalid value for ${key}: ${value}`);
}

export function parseMountFlag(spec: string): MountSpec {
  const bad = (why: string) => new InputError(`invalid argument ${JSON.stringify(spec)} for "--mount" flag: ${why}`);
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let propagation: string | undefined;
  let noCopy: boolean | undefined;
  let size: number | undefined;
  let mode: number | undefined;
  for (const field of csvFields(spec)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const need = () => {
      if (value === undefined || value === '') throw bad(`invalid field '${field}' must be a key=value pair`);
      return value;
    };
    switch (key) {
      case 'type':
        type = need();
        if (!['bind', 'volume', 'tmpfs'].includes(type)) throw bad(`invalid mount type ${JSON.stringify(type)} (bind, volume or tmpfs)`);
        break;
      case 'source':
      case 'src':
        source = need();
        break;
      case 'target':
      case 'destination':
      case 'dst':
        target = need();
        break;
      case 'readonly':
      case 'ro':
        readOnly = bool(spec, key, value);
        break;
      case 'bind-propagation':
        propagation = need();
        if (!PROPAGATIONS.has(propagation)) throw bad(`invalid bind-propagation ${JSON.stringify(propagation)} (${[...PROPAGATIONS].join(', ')})`);
        break;
      case 'volume-nocopy':
        noCopy = bool(spec, key, value);
        break;
      case 'volume-driver':
        if (need() !== 'local') throw bad(`volume driver ${JSON.stringify(value)} is not available (only "local")`);
        break;
      case 'tmpfs-size':
        try {
          size = ramInBytes('tmpfs-size', need());
        } catch {
          throw bad(`invalid tmpfs-size ${JSON.stringify(value)} (e.g. 64m)`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]{1,4}$/.test(need())) throw bad(`invalid tmpfs-mode ${JSON.stringify(value)} (octal, e.g. 1770)`);
        mode = Number.parseInt(value!, 8);
        break;
      case 'consistency':
        break; // a Docker Desktop hint: nothing to do on Linux
      default:
        throw bad(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!target) throw bad('target is required');
  if (!isAbsolute(target)) throw bad(`the target ${JSON.stringify(target)} must be an absolute path`);
  target = posix.normalize(target);
  if (target === '/') throw bad('cannot mount over the container root "/"');
  const only = (what: string, t: string, set: unknown) => {
    if (set !== undefined && type !== t) throw bad(`cannot mix '${what}' options with type '${type}'`);
  };
  only('bind-propagation', 'bind', propagation);
  only('volume-nocopy', 'volume', noCopy);
  only('tmpfs-size', 'tmpfs', size);
  only('tmpfs-mode', 'tmpfs', mode);
  if (type === 'bind') {
    if (!source) throw bad('source is required when the type is bind');
    if (!isAbsolute(source)) throw bad(`invalid mount path: '${source}' mount path must be absolute`);
    try {
      statSync(source);
    } catch {
      throw bad(`bind source path does not exist: ${source}`);
    }
    return { Type: 'bind', Source: posix.normalize(source), Target: target, ReadOnly: readOnly, BindOptions: { Propagation: propagation ?? 'rprivate' } };
  }
  if (type === 'tmpfs') {
    if (source) throw bad('a tmpfs mount has no source');
    const opts: MountSpec['TmpfsOptions'] = {};
    if (size !== undefined) opts.SizeBytes = size;
    if (mode !== undefined) opts.Mode = mode;
    return { Type: 'tmpfs', Target: target, ReadOnly: readOnly, ...(Object.keys(opts).length ? { TmpfsOptions: opts } : {}) };
  }
  if (source && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source)) {
    throw bad(`${JSON.stringify(source)} is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+); use type=bind for a host path`);
  }
  return { Type: 'volume', ...(source ? { Source: source } : {}), Target: target, ReadOnly: readOnly, ...(noCopy ? { VolumeOptions: { NoCopy: true } } : {}) };
}

/** A bind or volume --mount as the MountPoint the container keeps (as -v would make it). */
export function mountPointOf(m: MountSpec): MountPoint {
  const mode = [m.ReadOnly ? 'ro' : '', m.VolumeOptions?.NoCopy ? 'nocopy' : ''].filter(Boolean).join(',');
  if (m.Type === 'bind') return { Type: 'bind', Source: m.Source!, Destination: m.Target, Mode: mode, RW: !m.ReadOnly, Propagation: m.BindOptions?.Propagation ?? 'rprivate' };
  return { Type: 'volume', Name: m.Source ?? '', Source: '', Destination: m.Target, Mode: mode, RW: !m.ReadOnly, Propagation: '' };
}

/** A tmpfs --mount as the mount options --tmpfs would carry. */
export function tmpfsOptionsOf(m: MountSpec): string {
  const o: string[] = [];
  if (m.ReadOnly) o.push('ro');
  if (m.TmpfsOptions?.SizeBytes !== undefined) o.push(`size=${m.TmpfsOptions.SizeBytes}`);
  if (m.TmpfsOptions?.Mode !== undefined) o.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
  return o.join(',');
}
