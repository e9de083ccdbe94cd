// Image references as docker parses them (github.com/distribution/reference): the grammar,
// the normalisation (busybox → docker.io/library/busybox:latest) and the familiar form shown
// to users (docker.io/library/busybox:latest → busybox:latest). The registry side (pull/push)
// uses `domain` and `path` to know where to go.
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain "/"] path-component ["/" path-component]*
//   domain     := host [":" port]          host: dot-separated components, or [IPv6]
//   tag        := [\w][\w.-]{0,127}
//   digest     := algorithm ":" hex (32 or more)
import { InputError } from '../errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const host = `(?:${domainName}|${ipv6})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;

const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const anchoredTag = new RegExp(`^${tagPat}$`);
const anchoredDigest = new RegExp(`^${digestPat}$`);
const anchoredIdentifier = /^[a-f0-9]{64}$/;
const anchoredDomain = new RegExp(`^${domainAndPort}$`);
const anchoredPath = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);

/** A parsed, normalized reference. */
export interface Reference {
  /** Registry host[:port], e.g. "docker.io", "localhost:5000". */
  domain: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  path: string;
  /** domain/path: "docker.io/library/busybox". */
  name: string;
  tag?: string;
  /** "sha256:<hex>" */
  digest?: string;
}

export class ReferenceFormatError extends InputError {}

function invalid(detail?: string): never {
  throw new ReferenceFormatError(detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

/** docker's splitDockerDomain: the first component is a registry when it has a dot or a port, or is localhost, or has upper case. */
function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * Parse and normalize a reference as `docker pull/tag/run` do (ParseNormalizedNamed): no tag
 * is added here (see withDefaultTag).
 */
export function parseReference(s: string): Reference {
  if (s === '') invalid();
  if (anchoredIdentifier.test(s)) {
    throw new ReferenceFormatError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  // Split off the digest and tag first, so the name's upper case can be reported as docker does.
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!anchoredDigest.test(digest)) invalid();
    validateDigest(digest);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon !== -1 && !rest.slice(lastColon + 1).includes('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!anchoredTag.test(tag)) invalid();
  }
  const [domain, path] = splitDomain(rest);
  if (!anchoredDomain.test(domain)) invalid();
  if (!anchoredPath.test(path)) {
    if (anchoredPath.test(path.toLowerCase())) invalid(`repository name (${path}) must be lowercase`);
    invalid();
  }
  const name = `${domain}/${path}`;
  if (name.length > NAME_TOTAL_LENGTH_MAX) invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const full = `${name}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  if (!referenceRe.test(full)) invalid();
  const ref: Reference = { domain, path, name };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** docker's TagNameOnly: a reference with neither tag nor digest gets ":latest". */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** Parse, normalize and default the tag: what `run busybox` and `tag x busybox` mean. */
export function normalize(s: string): Reference {
  return withDefaultTag(parseReference(s));
}

/** The full string form: docker.io/library/busybox:latest, name@sha256:…, name:tag@sha256:…. */
export function formatReference(ref: Reference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The familiar name docker shows: "busybox", "user/app", "localhost:5000/app". */
export function familiarName(ref: Pick<Reference, 'domain' | 'path'>): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX) && !ref.path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return ref.path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return ref.path;
}

/** docker.io/library/busybox:latest → busybox:latest (FamiliarString). */
export function familiarString(full: string | Reference): string {
  const ref = typeof full === 'string' ? parseReference(full) : full;
  return `${familiarName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** A tag on its own (`docker tag x repo:TAG`). */
export function isValidTag(tag: string): boolean {
  return anchoredTag.test(tag);
}

/** "sha256:<64 lowercase hex>" (the only algorithm we store); other algorithms are refused clearly. */
export function validateDigest(digest: string): string {
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!m) throw new ReferenceFormatError(`invalid digest format: ${digest}`);
  if (m[1] !== 'sha256') throw new ReferenceFormatError(`unsupported digest algorithm: ${digest}`);
  if (!/^[a-f0-9]{64}$/.test(m[2]!)) throw new ReferenceFormatError(`invalid checksum digest length: ${digest}`);
  return digest;
}

/** True for a full 64-hex image id with or without "sha256:". */
export function isFullId(s: string): boolean {
  return anchoredIdentifier.test(s.startsWith('sha256:') ? s.slice(7) : s);
}
