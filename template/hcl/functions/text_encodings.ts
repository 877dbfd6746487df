/**
 * The character encodings textencodebase64 and textdecodebase64 accept, by
 * IANA name or alias (case-insensitive). A small set: the ones templates
 * use (UTF-16LE for Windows PowerShell -EncodedCommand, Latin-1, ...).
 */
import { ValueError } from "../value.ts";

type Codec = {
  encode(s: string): Uint8Array | undefined;
  decode(b: Uint8Array): string | undefined;
};

function utf16(littleEndian: boolean): Codec {
  return {
    encode(s) {
      const out = new Uint8Array(s.length * 2);
      const view = new DataView(out.buffer);
      for (let i = 0; i < s.length; i++) view.setUint16(i * 2, s.charCodeAt(i), littleEndian);
      return out;
    },
    decode(b) {
      if (b.length % 2 !== 0) return undefined;
      try {
        return new TextDecoder(littleEndian ? "utf-16le" : "utf-16be", {
          fatal: true,
          ignoreBOM: true,
        })
          .decode(b);
      } catch {
        return undefined;
      }
    },
  };
}

/** A single-byte codec whose byte b maps to `table(b)`. */
function singleByte(table: (b: number) => string): Codec {
  const chars = Array.from({ length: 256 }, (_, b) => table(b));
  const back = new Map(chars.map((c, b) => [c, b] as const).filter(([c]) => c !== ""));
  return {
    encode(s) {
      const out: number[] = [];
      for (const c of s) {
        const b = back.get(c);
        if (b === undefined) return undefined;
        out.push(b);
      }
      return Uint8Array.from(out);
    },
    decode(b) {
      let s = "";
      for (const x of b) {
        if (chars[x] === "") return undefined;
        s += chars[x];
      }
      return s;
    },
  };
}

const windows1252 = new TextDecoder("windows-1252");
const cp1252 = (b: number) => {
  const c = windows1252.decode(Uint8Array.of(b));
  // Bytes windows-1252 leaves undefined decode to their C1 control in WHATWG; Go refuses them.
  return [0x81, 0x8d, 0x8f, 0x90, 0x9d].includes(b) ? "" : c;
};

const UTF8: Codec = {
  encode: (s) => new TextEncoder().encode(s),
  decode(b) {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(b);
    } catch {
      return undefined;
    }
  },
};

const CODECS: Record<string, Codec> = {
  "utf-8": UTF8,
  "utf-16le": utf16(true),
  "utf-16be": utf16(false),
  "iso-8859-1": singleByte((b) => String.fromCharCode(b)),
  "us-ascii": singleByte((b) => b < 128 ? String.fromCharCode(b) : ""),
  "windows-1252": singleByte(cp1252),
};

const ALIASES: Record<string, string> = {
  utf8: "utf-8",
  "iso_8859-1": "iso-8859-1",
  "iso-ir-100": "iso-8859-1",
  latin1: "iso-8859-1",
  l1: "iso-8859-1",
  ibm819: "iso-8859-1",
  cp819: "iso-8859-1",
  ascii: "us-ascii",
  "iso646-us": "us-ascii",
  cp1252: "windows-1252",
};

function codec(name: string): Codec {
  const key = name.toLowerCase();
  const c = CODECS[ALIASES[key] ?? key];
  if (!c) throw new ValueError(`"${name}" is not a supported IANA encoding name or alias`, 1);
  return c;
}

/** Encodes `s` in the named encoding; throws when a character has no representation in it. */
export function encodeText(s: string, name: string): Uint8Array {
  const bytes = codec(name).encode(s);
  if (!bytes) {
    throw new ValueError(
      `the given string contains characters that cannot be represented in ${name}`,
      0,
    );
  }
  return bytes;
}

/** Decodes bytes in the named encoding; throws when they are not valid in it. */
export function decodeText(b: Uint8Array, name: string): string {
  const s = codec(name).decode(b);
  if (s === undefined) throw new ValueError(`the given value has an invalid ${name} encoding`, 0);
  return s;
}
