/**
 * Network address functions: cidrhost cidrnetmask cidrsubnet cidrsubnets,
 * for IPv4 and IPv6 as Terraform's (and Packer's) go-cidr computes them.
 * Addresses are BigInts; an IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/104)
 * is treated as the IPv4 prefix it maps, as Go does.
 */
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { fn, int, str, variadic } from "./args.ts";

/** A network: its first address, prefix length, and address width (32 or 128). */
interface Net {
  base: bigint;
  prefix: number;
  bits: 32 | 128;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  let tail: bigint[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const x = parseV4(v4[2]);
    if (x === undefined) return undefined;
    s = v4[1] + "0:0";
    tail = [x >> 16n, x & 0xffffn];
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const group = (h: string) => h === "" ? [] : h.split(":");
  const head = group(halves[0]), rest = halves.length === 2 ? group(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) {
    return undefined;
  }
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail.length) v = (v >> 32n << 32n) | (tail[0] << 16n) | tail[1];
  return v;
}

// The ::ffff:0:0/96 prefix of IPv4-mapped IPv6 addresses, shifted down by the IPv4 part.
const MAPPED = 0xffffn;

function parseCidr(text: string, index: number): Net {
  const bad = (): never => {
    throw new ValueError(`invalid CIDR expression: invalid CIDR address: ${text}`, index);
  };
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text) ?? bad();
  const prefix = Number(m[2]);
  const v4 = parseV4(m[1]);
  let addr: bigint, bits: 32 | 128;
  if (v4 !== undefined) [addr, bits] = [v4, 32];
  else [addr, bits] = [parseV6(m[1]) ?? bad(), 128];
  if (prefix > bits) bad();
  let p = prefix;
  if (bits === 128 && addr >> 32n === MAPPED && prefix >= 96) {
    [addr, bits, p] = [addr & 0xffffffffn, 32, prefix - 96];
  }
  const hostBits = BigInt(bits - p);
  return { base: (addr >> hostBits) << hostBits, prefix: p, bits };
}

/** Formats an address as Go's net.IP does (RFC 5952 for IPv6). */
function formatAddr(v: bigint, bits: 32 | 128): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

function subnet(net: Net, newbits: number, num: bigint, index: number): Net {
  const prefix = net.prefix + newbits;
  if (newbits < 0) throw new ValueError("must extend prefix by at least one bit", index);
  if (prefix > net.bits) {
    throw new ValueError(
      `insufficient address space to extend prefix of ${net.prefix} by ${newbits}`,
      index,
    );
  }
  if (num < 0n || num >= 1n << BigInt(newbits)) {
    throw new ValueError(
      `prefix extension of ${newbits} does not accommodate a subnet numbered ${num}`,
      index + 1,
    );
  }
  return { base: net.base | (num << BigInt(net.bits - prefix)), prefix, bits: net.bits };
}

const cidr = (n: Net) => `${formatAddr(n.base, n.bits)}/${n.prefix}`;

function cidrhost(a: Value[]): string {
  const net = parseCidr(str(a, 0, "prefix"), 0);
  const host = BigInt(int(a, 1, "hostnum"));
  const size = 1n << BigInt(net.bits - net.prefix);
  const offset = host < 0n ? size + host : host;
  if (offset < 0n || offset >= size) {
    throw new ValueError(`prefix of ${net.prefix} does not accommodate a host numbered ${host}`, 1);
  }
  return formatAddr(net.base + offset, net.bits);
}

function cidrsubnets(a: Value[]): string[] {
  const net = parseCidr(str(a, 0, "prefix"), 0);
  const out: string[] = [];
  let next = net.base;
  const end = net.base + (1n << BigInt(net.bits - net.prefix));
  for (let i = 1; i < a.length; i++) {
    const newbits = int(a, i, "newbits");
    const first = subnet(net, newbits, 0n, i);
    const size = 1n << BigInt(net.bits - first.prefix);
    const start = (next + size - 1n) / size * size;
    if (start + size > end) {
      throw new ValueError(
        `Invalid value for "newbits" parameter: not enough remaining address space for a subnet with a prefix of ${first.prefix} bits after ${
          out.at(-1) ?? cidr(net)
        }`,
        i,
      );
    }
    out.push(cidr({ ...first, base: start }));
    next = start + size;
  }
  return out;
}

/** The network family. */
export const IPNET_FUNCTIONS: Record<string, HclFunction> = {
  cidrhost: fn(["prefix", "hostnum"], cidrhost),
  cidrnetmask: fn(["prefix"], (a) => {
    const net = parseCidr(str(a, 0, "prefix"), 0);
    const all = (1n << BigInt(net.bits)) - 1n;
    const mask = all ^ ((1n << BigInt(net.bits - net.prefix)) - 1n);
    return formatAddr(mask, net.bits);
  }),
  cidrsubnet: fn(["prefix", "newbits", "netnum"], (a) => {
    const net = parseCidr(str(a, 0, "prefix"), 0);
    return cidr(subnet(net, int(a, 1, "newbits"), BigInt(int(a, 2, "netnum")), 1));
  }),
  cidrsubnets: variadic(["prefix"], "newbits", cidrsubnets),
};
