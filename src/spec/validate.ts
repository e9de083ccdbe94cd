// Parsing and schema validation of the documents users hand us: config.json, process.json
// (`exec --process`), resources.json (`update -r`), and our own state and features output.
//
// The validators were compiled ahead of time from schemas/ (src/build/gen-spec.mjs), so this
// module is cheap to import: it sits on the path of every `create`. Each failure is one
// line naming the document and the JSON pointer of the bad field:
//   config.json: /process/args: must NOT have fewer than 1 items
//   config.json: /linux/namespaces/0/type: must be one of pid, network, ... (got "foo")
//   config.json: /ociVersion: is required
import { ConfigError } from '../errors.js';
import type { Features, LinuxResources, Process, Spec, State } from './generated/types.js';
import {
  validateConfig as configValidator,
  validateFeatures as featuresValidator,
  validateProcess as processValidator,
  validateResources as resourcesValidator,
  validateState as stateValidator,
  type ValidationError,
  type Validator,
} from './generated/validators.js';
import { findJsonSyntaxError } from './json-error.js';

/**
 * JSON.parse with an error a user can act on:
 *   config.json: invalid JSON: Unexpected token } at line 3 column 5
 */
export function parseJson(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const where = findJsonSyntaxError(text);
    const detail = where
      ? `${where.message} at line ${where.line} column ${where.column}`
      : (e as Error).message;
    throw new ConfigError(`${label}: invalid JSON: ${detail}`, { cause: e });
  }
}

/**
 * Check a parsed config.json against the schema (cross-field rules are check.ts's).
 * Like the other two user documents, null-valued properties are dropped first (see dropNulls).
 */
export function validateConfig(obj: unknown, label = 'config.json'): Spec {
  return validateWith(configValidator, dropNulls(obj), label);
}

/** Check a parsed process.json (`exec --process`). */
export function validateProcess(obj: unknown, label = 'process.json'): Process {
  return validateWith(processValidator, dropNulls(obj), label);
}

/** Check a parsed resources.json (`update -r`). */
export function validateResources(obj: unknown, label = 'resources.json'): LinuxResources {
  return validateWith(resourcesValidator, dropNulls(obj), label);
}

/**
 * Remove object properties whose value is null, at any depth (array elements are kept).
 * Go runtimes and the tools that write these files treat `"annotations": null` or
 * `"mounts": null` as absent (a nil map or slice), so we accept them the same way, and the
 * types never have to say `| null`. Mutates and returns `obj`.
 */
export function dropNulls<T>(obj: T): T {
  if (Array.isArray(obj)) {
    for (const v of obj) dropNulls(v);
  } else if (obj !== null && typeof obj === 'object') {
    const rec = obj as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (rec[k] === null) delete rec[k];
      else dropNulls(rec[k]);
    }
  }
  return obj;
}

/** Check an OCI state document (what `state` prints; used by tests and hooks' input). */
export function validateState(obj: unknown, label = 'state'): State {
  return validateWith(stateValidator, obj, label);
}

/** Check a features document (what `features` prints). */
export function validateFeatures(obj: unknown, label = 'features'): Features {
  return validateWith(featuresValidator, obj, label);
}

function validateWith<T>(validator: Validator<T>, obj: unknown, label: string): T {
  if (validator(obj)) return obj;
  const first = validator.errors?.[0];
  throw new ConfigError(first ? formatError(label, first, obj) : `${label}: invalid document`);
}

/** One ajv error as one line: `label: /json/pointer: what is wrong (got value)`. */
export function formatError(label: string, err: ValidationError, doc: unknown): string {
  let path = err.instancePath;
  let message: string;
  const got = () => ` (got ${describe(valueAt(doc, err.instancePath))})`;
  switch (err.keyword) {
    case 'required':
      path += `/${escapePointer(String(err.params.missingProperty))}`;
      message = 'is required';
      break;
    case 'enum':
      message = `must be one of ${(err.params.allowedValues as unknown[]).map(String).join(', ')}${got()}`;
      break;
    case 'type': {
      const t = err.params.type as string | string[];
      message = `must be ${(Array.isArray(t) ? t : String(t).split(',')).join(' or ')}${got()}`;
      break;
    }
    case 'pattern':
      message = err.params.pattern === '^/' ? `must be an absolute path${got()}` : `must match ${err.params.pattern}${got()}`;
      break;
    case 'minLength':
      message = err.params.limit === 1 ? 'must not be empty' : `${err.message}${got()}`;
      break;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      message = `${err.message}${got()}`;
      break;
    default:
      message = err.message ?? `fails ${err.keyword}`;
  }
  return path ? `${label}: ${path}: ${message}` : `${label}: ${message}`;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function valueAt(doc: unknown, pointer: string): unknown {
  if (!pointer) return doc;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A value as a message shows it: strings quoted (and cut short), containers by kind. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
    case 'object':
      return 'object';
    case 'undefined':
      return 'nothing';
    default:
      return String(v);
  }
}
