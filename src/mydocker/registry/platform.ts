// Platforms (`--platform linux/arm64/v8`) and choosing one image from an index or manifest
// list, as containerd's default matcher does: same os and architecture; a variant asked for
// must match (arm64's "v8" is its default); without one, the host's variant is preferred.
import { InputError } from '../errors.js';
import { hostPlatform as hostOsArch, type Descriptor, type Platform } from '../images/manifest.js';

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386', i686: '386' };

function normalize(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture.toLowerCase()] ?? p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  if (p.architecture === 'armhf' && !variant) variant = 'v7';
  if (p.architecture === 'armel' && !variant) variant = 'v6';
  if (architecture === 'arm64' && (variant === 'v8' || variant === '8')) variant = undefined;
  if (architecture === 'arm' && variant && /^\d$/.test(variant)) variant = `v${variant}`;
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  return { os: p.os.toLowerCase(), architecture, ...(variant ? { variant } : {}) };
}

/** `os/arch[/variant]` (docker's --platform). */
export function parsePlatform(s: string, flag = '--platform'): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[A-Za-z0-9_.-]+$/.test(x))) {
    throw new InputError(`${flag} ${s}: want os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  return normalize({ os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) });
}

/** The host's platform (arm's variant from node's build). */
export function hostPlatform(): Platform {
  const p = hostOsArch();
  if (p.architecture === 'arm') {
    const v = (process.config.variables as { arm_version?: string }).arm_version;
    if (v) return { ...p, variant: `v${v}` };
  }
  return p;
}

export function formatPlatform(p: Platform): string {
  const n = normalize(p);
  return `${n.os}/${n.architecture}${n.variant ? `/${n.variant}` : ''}`;
}

/** Whether an image for `have` is one for `want`. */
export function matches(want: Platform, have: Platform | undefined): boolean {
  if (!have || !have.os || !have.architecture) return false;
  const w = normalize(want);
  const h = normalize(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  return w.variant === undefined || w.variant === h.variant;
}

/** The best entry of an index for `want`, or undefined. */
export function pickManifest(entries: Descriptor[], want: Platform, explicit: boolean): Descriptor | undefined {
  const candidates = entries.filter((d) => matches(want, d.platform));
  if (!candidates.length) return undefined;
  const w = normalize(want);
  const host = explicit ? w : normalize(hostPlatform());
  return candidates.find((d) => normalize(d.platform!).variant === (w.variant ?? host.variant)) ?? candidates.find((d) => !normalize(d.platform!).variant) ?? candidates[0];
}
