/**
 * Hash and identifier functions: bcrypt md5 sha1 sha256 sha512 base64sha256
 * base64sha512 uuidv4 uuidv5. Strings are hashed as their UTF-8 bytes.
 */
import { createHash, randomUUID } from "node:crypto";
import type * as Bcrypt from "bcryptjs";
import { type HclFunction, type Value, ValueError } from "../value.ts";
import { fn, int, str, variadic } from "./args.ts";
import { lazyPackage } from "./lazy_package.ts";

const bcryptjs = lazyPackage<typeof Bcrypt>("bcryptjs");

function digest(algorithm: string, encoding: "hex" | "base64") {
  return fn(
    ["str"],
    (a) => createHash(algorithm).update(str(a, 0, "str"), "utf8").digest(encoding),
  );
}

function bcrypt(a: Value[]): string {
  const s = str(a, 0, "str");
  if (a.length > 2) throw new ValueError("bcrypt() takes no more than two arguments", 2);
  const cost = a.length > 1 ? int(a, 1, "cost") : 10;
  if (cost < 4 || cost > 31) {
    throw new ValueError(`crypto/bcrypt: cost ${cost} is outside allowed range (4,31)`, 1);
  }
  if (new TextEncoder().encode(s).length > 72) {
    throw new ValueError("bcrypt: password length exceeds 72 bytes", 0);
  }
  // Go's bcrypt writes the $2a$ prefix; for passwords under 255 bytes $2a$ and $2b$ hash alike.
  const { genSaltSync, hashSync } = bcryptjs();
  return hashSync(s, genSaltSync(cost)).replace(/^\$2b\$/, "$2a$");
}

const NAMESPACES: Record<string, string> = {
  dns: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  url: "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
  oid: "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
  x500: "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
};

/** Parses a UUID in any of the forms Google's uuid.Parse accepts. */
function uuidBytes(text: string): Uint8Array | undefined {
  const hex = text.replace(/^urn:uuid:/i, "").replace(/^\{(.*)\}$/, "$1");
  const m = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i.exec(
    hex,
  );
  if (!m) return undefined;
  return Uint8Array.from(m.slice(1).join("").match(/../g)!, (b) => parseInt(b, 16));
}

function uuidv5(a: Value[]): string {
  const ns = str(a, 0, "namespace");
  const nsBytes = uuidBytes(NAMESPACES[ns] ?? ns);
  if (!nsBytes) throw new ValueError(`uuidv5() doesn't support namespace ${ns}`, 0);
  const hash = createHash("sha1").update(nsBytes).update(str(a, 1, "name"), "utf8").digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** The crypto family. */
export const CRYPTO_FUNCTIONS: Record<string, HclFunction> = {
  bcrypt: variadic(["str"], "cost", bcrypt),
  md5: digest("md5", "hex"),
  sha1: digest("sha1", "hex"),
  sha256: digest("sha256", "hex"),
  sha512: digest("sha512", "hex"),
  base64sha256: digest("sha256", "base64"),
  base64sha512: digest("sha512", "base64"),
  uuidv4: fn([], () => randomUUID()),
  uuidv5: fn(["namespace", "name"], uuidv5),
};
