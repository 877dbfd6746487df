import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { compareSync } from "bcryptjs";
import { call, callError } from "./call.ts";

Deno.test("hashes of the UTF-8 bytes", () => {
  assertEquals(call("md5", ["hello world"]), "5eb63bbbe01eeed093cb22bb8f5acdc3");
  assertEquals(call("sha1", ["hello world"]), "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed");
  assertEquals(
    call("sha256", ["hello world"]),
    "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
  );
  assertEquals(
    call("base64sha256", ["hello world"]),
    "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
  );
  assertEquals((call("sha512", ["hello world"]) as string).slice(0, 16), "309ecc489c12d6eb");
});

Deno.test("uuidv5 is deterministic; uuidv4 is random and well-formed", () => {
  assertEquals(call("uuidv5", ["dns", "www.terraform.io"]), "a5008fae-b28c-5ba5-96cd-82b4c53552d6");
  assertMatch(callError("uuidv5", ["x", "a"]).message, /doesn't support namespace x/);
  const a = call("uuidv4", []) as string;
  assertMatch(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert(a !== call("uuidv4", []));
});

Deno.test("bcrypt hashes with Go's $2a$ prefix and the given cost", () => {
  const h = call("bcrypt", ["hello", 4]) as string;
  assertMatch(h, /^\$2a\$04\$/);
  assert(compareSync("hello", h));
  assertMatch(call("bcrypt", ["hello"]) as string, /^\$2a\$10\$/);
  assertEquals(callError("bcrypt", ["x", 3]).argument, 1);
});

Deno.test("a hash kiln makes and one Packer 1.6.6 made verify alike", () => {
  // bcrypt("kiln-secret", 6) in `packer console`.
  const fromPacker = "$2a$06$zRPj519SrCqK/TapcgPdW.E4gJZUWryMZ3rUcGbfg2JzYtDqfYiWG";
  assert(compareSync("kiln-secret", fromPacker));
  assert(!compareSync("kiln-secreT", fromPacker));
  assert(compareSync("kiln-secret", call("bcrypt", ["kiln-secret", 6]) as string));
});
