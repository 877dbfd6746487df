/** `min_packer_version` checks with hashicorp/go-version's parsing and ordering. */
import { PACKER_COMPAT_VERSION } from "../version.ts";

interface Version {
  segments: number[];
  pre: string;
}

const VERSION_RE =
  /^v?([0-9]+(?:\.[0-9]+)*?)(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))?$/;

function parseVersion(text: string): Version | undefined {
  const m = VERSION_RE.exec(text);
  if (!m) return undefined;
  const segments = m[1].split(".").map(Number);
  while (segments.length < 3) segments.push(0);
  return { segments, pre: m[3] ?? m[6] ?? "" };
}

function compare(a: Version, b: Version): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = (a.segments[i] ?? 0) - (b.segments[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === "") return 1;
  if (b.pre === "") return -1;
  return a.pre < b.pre ? -1 : 1;
}

/** Returns the problem with `min_packer_version`, or undefined when kiln satisfies it. */
export function checkMinVersion(required: string | undefined): string | undefined {
  if (!required) return undefined;
  const want = parseVersion(required);
  if (!want) return `min_version is invalid: Malformed version: ${required}`;
  const have = parseVersion(PACKER_COMPAT_VERSION)!;
  if (compare(have, want) < 0) {
    return `This template requires Packer version ${required} or higher; kiln is compatible with ${PACKER_COMPAT_VERSION}`;
  }
  return undefined;
}
