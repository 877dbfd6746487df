/**
 * Sentinel secret values every reliability scenario plants in its inputs, and
 * the scan that proves none of them reached anything kiln wrote.
 *
 * A secret can leak in more shapes than its plain bytes: quoted into JSON,
 * URL-encoded into an endpoint, base64'd into user data or a header, hex- or
 * UTF-16-encoded, or inside a compressed artifact. The scan looks for every
 * one of those shapes in every byte (binary files included) and inflates
 * gzip (also multi-member: bgzf), zip and lz4 files before looking.
 */
import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import { join } from "node:path";
import { createPublicKey } from "node:crypto";
import { unzipSync } from "fflate";
import lz4 from "lz4js";

/** Distinctive values that must never appear in any byte kiln writes. */
export const SENTINELS = {
  sensitiveVariable: "kiln-sentinel-sensitive-7f3a9c",
  sshPassword: "kiln-sentinel-sshpass-51be02",
  awsSecretKey: "kiln-sentinel-awssecret-0d94e1",
  winrmPassword: "kiln-sentinel-winrmpass-c2a7f8",
} as const;

/** Options of `scanForSentinels`. */
export interface ScanOptions {
  /**
   * Also scan `runs/<id>/secrets/`, the 0600 store where kiln keeps what a
   * resume needs by design. Skipped by default while a run can still be
   * resumed; pass true once the run has ended (success or cleanup), when the
   * store must be gone.
   */
  includeSecretStore?: boolean;
}

/** Where a secret must never be: its plain form and every encoding it could travel in. */
interface Needle {
  /** The secret's name plus, for encoded forms, the encoding ("sshPassword (base64)"). */
  label: string;
  /** The needle's bytes as a latin1 string, so binary data is searched byte for byte. */
  text: string;
}

/** Encoded forms shorter than this would match by chance in binary data. */
const MIN_ENCODED = 12;
/** Bytes read per chunk: bounds memory for huge files. */
const CHUNK = 8 << 20;
/** Above this, zip and lz4 archives (inflated in memory) are reported instead of inflated. */
const MAX_IN_MEMORY = 256 << 20;

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();

function bytesText(bytes: Uint8Array): string {
  return latin1.decode(bytes);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * The base64 text of `bytes` however they are aligned inside a longer
 * encoded blob: for each of the three offsets, the characters that depend
 * only on the secret's bytes.
 */
function base64Windows(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let skip = 0; skip < 3; skip++) {
    const body = bytes.subarray(skip);
    const whole = Math.floor(body.length / 3) * 3;
    if (whole >= 9) out.push(base64(body.subarray(0, whole)));
  }
  return out;
}

/** Every form of `value` worth searching for, labelled by its encoding. */
function formsOf(value: string): [string, Uint8Array | string][] {
  const bytes = utf8.encode(value);
  const forms: [string, Uint8Array | string][] = [["", bytes]];
  const json = JSON.stringify(value).slice(1, -1);
  forms.push(["JSON-escaped", json]);
  // Go's encoding/json also escapes <, > and & (manifests written by Go tools).
  forms.push([
    "JSON-escaped",
    json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
  ]);
  const url = encodeURIComponent(value);
  forms.push(["URL-encoded", url], ["URL-encoded", url.replace(/%20/g, "+")]);
  for (const b64 of base64Windows(bytes)) {
    forms.push(["base64", b64.replace(/=+$/, "")]);
    forms.push(["base64url", b64.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")]);
  }
  forms.push(["hex", Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")]);
  const utf16 = new Uint8Array(value.length * 2);
  for (let i = 0; i < value.length; i++) {
    utf16[2 * i] = value.charCodeAt(i) & 0xff;
    utf16[2 * i + 1] = value.charCodeAt(i) >> 8;
  }
  forms.push(["UTF-16", utf16]);
  return forms;
}

/** A PEM's base64 body lines (headers, footers and `Key: value` lines dropped). */
function pemBody(pem: string): string[] {
  return pem.split(/\r?\n/).map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith("-----") && !/^[A-Za-z-]+: /.test(l)
  );
}

function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * The public half of a private key (an OpenSSH key's public blob, else the
 * SPKI DER): parts of the key that kiln may write legitimately (a key pair
 * import, authorized_keys) and so are no evidence of a leak.
 */
function publicBytes(pem: string, body: Uint8Array): Uint8Array {
  if (pem.includes("BEGIN OPENSSH PRIVATE KEY")) {
    // "openssh-key-v1\0", cipher, kdf, kdf options, key count, then the public blob.
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let at = 15;
    for (let i = 0; i < 3; i++) at += 4 + view.getUint32(at);
    at += 4;
    return body.subarray(at + 4, at + 4 + view.getUint32(at));
  }
  try {
    return new Uint8Array(
      createPublicKey(pem).export({ type: "spki", format: "der" }) as Uint8Array,
    );
  } catch {
    return new Uint8Array();
  }
}

/**
 * What identifies private-key material: every PEM body line that is not
 * public (the first line is the format's fixed header, some lines are the
 * public key), so a leak of any part of the key is found in text; and the
 * key's private bytes in 32-byte windows, for a leak in binary form.
 */
function keyParts(pem: string): { lines: string[]; windows: Uint8Array[] } {
  const lines = pemBody(pem);
  let body: Uint8Array;
  try {
    body = decodeBase64(lines.join(""));
  } catch {
    return { lines: [], windows: [] };
  }
  let pub: Uint8Array = new Uint8Array();
  try {
    pub = publicBytes(pem, body);
  } catch { /* not a key we can parse: every line counts as private */ }
  const publicText = [0, 1, 2].map((k) => {
    const padded = new Uint8Array(k + pub.length);
    padded.set(pub, k);
    return base64(padded);
  }).join("\n");
  const pubRaw = bytesText(pub);
  const windows: Uint8Array[] = [];
  for (let at = 32; at + 32 <= body.length; at += 32) {
    const w = body.subarray(at, at + 32);
    if (!pubRaw.includes(bytesText(w))) windows.push(w);
  }
  return {
    lines: lines.slice(1).filter((l) => l.length >= 24 && !publicText.includes(l)),
    windows,
  };
}

/** The needles of one named secret. */
function needlesOf(name: string, value: string): Needle[] {
  const key = value.includes("-----BEGIN") ? keyParts(value) : undefined;
  const sources = key && key.lines.length > 0
    ? key.lines.map((line, i) => ({ label: `${name} (key line ${i + 2})`, value: line }))
    : [{ label: name, value }];
  const seen = new Set<string>();
  const out: Needle[] = [];
  const add = (label: string, text: string, minLength: number) => {
    if (text.length < minLength || seen.has(text)) return;
    seen.add(text);
    out.push({ label, text });
  };
  for (const source of sources) {
    for (const [form, data] of formsOf(source.value)) {
      const text = typeof data === "string" ? data : bytesText(data);
      const label = form === "" ? source.label : `${source.label} (${form})`;
      add(label, text, form === "" ? 1 : MIN_ENCODED);
    }
  }
  for (const w of key?.windows ?? []) add(`${name} (raw key bytes)`, bytesText(w), MIN_ENCODED);
  return out;
}

/** Finds needles in a byte stream fed chunk by chunk (matches across chunk borders too). */
class StreamMatcher {
  readonly found = new Set<string>();
  #re: RegExp;
  #labels: Map<string, string>;
  #keep: number;
  #tail = "";

  constructor(needles: Needle[]) {
    this.#labels = new Map(needles.map((n) => [n.text, n.label]));
    // Longest first: a needle containing another is reported under its own label.
    const sorted = [...needles].sort((a, b) => b.text.length - a.text.length);
    this.#re = new RegExp(sorted.map((n) => escapeRegExp(n.text)).join("|"), "g");
    this.#keep = Math.max(0, ...needles.map((n) => n.text.length)) - 1;
  }

  feed(bytes: Uint8Array): void {
    const text = this.#tail + bytesText(bytes);
    this.#re.lastIndex = 0;
    for (const m of text.matchAll(this.#re)) this.found.add(this.#labels.get(m[0])!);
    this.#tail = this.#keep > 0 ? text.slice(-this.#keep) : "";
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

type Magic = "gzip" | "zip" | "lz4" | undefined;

function magicOf(head: Uint8Array): Magic {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return "zip";
  if (head[0] === 0x04 && head[1] === 0x22 && head[2] === 0x4d && head[3] === 0x18) return "lz4";
  return undefined;
}

/** Scans files and texts; reports into `hits` ("where: label"). */
class Scanner {
  readonly hits: string[] = [];
  #needles: Needle[];
  #options: ScanOptions;

  constructor(needles: Needle[], options: ScanOptions) {
    this.#needles = needles;
    this.#options = options;
  }

  #report(where: string, matcher: StreamMatcher): void {
    for (const label of [...matcher.found].sort()) this.hits.push(`${where}: ${label}`);
  }

  scanBytes(where: string, bytes: Uint8Array, depth = 0): void {
    const matcher = new StreamMatcher(this.#needles);
    for (let at = 0; at < bytes.length; at += CHUNK) matcher.feed(bytes.subarray(at, at + CHUNK));
    this.#report(where, matcher);
    if (depth > 2) return;
    try {
      this.#inflateInMemory(where, bytes, depth);
    } catch (err) {
      // A file with a compression magic that does not inflate is just data.
      if (!(err instanceof Error)) throw err;
    }
  }

  #inflateInMemory(where: string, bytes: Uint8Array, depth: number): void {
    const magic = magicOf(bytes);
    if (magic === "zip") {
      for (const [name, data] of Object.entries(unzipSync(bytes))) {
        this.scanBytes(`${where}!${name}`, data, depth + 1);
      }
    } else if (magic === "lz4") {
      this.scanBytes(`${where} (lz4-decompressed)`, new Uint8Array(lz4.decompress(bytes)), depth);
    }
  }

  async scanPath(path: string): Promise<void> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      this.hits.push(`${path}: unreadable (${err instanceof Error ? err.message : err})`);
      return;
    }
    if (info.isSymlink) return;
    if (info.isDirectory) {
      if (!this.#options.includeSecretStore && isSecretStore(path)) return;
      const names: string[] = [];
      for await (const entry of Deno.readDir(path)) names.push(entry.name);
      for (const name of names.sort()) await this.scanPath(join(path, name));
      return;
    }
    if (!info.isFile) return;
    try {
      await this.#scanFile(path, info.size);
    } catch (err) {
      this.hits.push(`${path}: unreadable (${err instanceof Error ? err.message : err})`);
    }
  }

  async #scanFile(path: string, size: number): Promise<void> {
    if (size <= MAX_IN_MEMORY) {
      const bytes = await Deno.readFile(path);
      this.scanBytes(path, bytes);
      if (magicOf(bytes) === "gzip") await this.#gunzip(path, Readable.from([bytes]));
      return;
    }
    const matcher = new StreamMatcher(this.#needles);
    let head: Uint8Array | undefined;
    using file = await Deno.open(path);
    for await (const chunk of file.readable) {
      head ??= chunk.slice(0, 4);
      matcher.feed(chunk);
    }
    this.#report(path, matcher);
    if (head && magicOf(head) === "gzip") {
      using again = await Deno.open(path);
      await this.#gunzip(path, Readable.from(again.readable));
    } else if (head && magicOf(head) !== undefined) {
      this.hits.push(`${path}: ${size} bytes of ${magicOf(head)} too large to inflate and check`);
    }
  }

  /** Streams every gzip member (bgzf files are hundreds of them) through a matcher. */
  async #gunzip(path: string, source: Readable): Promise<void> {
    const matcher = new StreamMatcher(this.#needles);
    const gunzip = createGunzip();
    source.pipe(gunzip);
    try {
      for await (const chunk of gunzip) matcher.feed(chunk as Uint8Array);
    } catch {
      // A truncated or corrupt stream: what inflated before the damage was still scanned.
    }
    this.#report(`${path} (gunzipped)`, matcher);
  }
}

/** Whether `path` is a run's secret store, `…/runs/<run-id>/secrets`. */
export function isSecretStore(path: string): boolean {
  return /(^|\/)runs\/[^/]+\/secrets\/?$/.test(path);
}

/**
 * Scans files (recursively for directories) and captured texts for every
 * sentinel (and for private-key material passed in `extraSecrets`);
 * returns one line per hit ("path: sentinel name"), empty when clean.
 * Encoded forms are named too ("path: sshPassword (base64)"); matches inside
 * compressed files name the member ("out.zip!a/b.txt: awsSecretKey").
 */
export async function scanForSentinels(
  paths: string[],
  texts: Record<string, string>,
  extraSecrets: Record<string, string> = {},
  options: ScanOptions = {},
): Promise<string[]> {
  const needles = [
    ...Object.entries(SENTINELS),
    ...Object.entries(extraSecrets).filter(([, v]) => v !== ""),
  ].flatMap(([name, value]) => needlesOf(name, value));
  const scanner = new Scanner(needles, options);
  for (const path of paths) await scanner.scanPath(path);
  for (const [label, text] of Object.entries(texts)) scanner.scanBytes(label, utf8.encode(text));
  return scanner.hits;
}
