/**
 * Fuzzed `-var` and `-var-file` inputs for a template that declares a few
 * variables: hostile names and values, missing `=`, undeclared names, var
 * files that are not objects, hold non-strings, are not UTF-8, or are missing.
 */
import { stringify as toYaml } from "yaml";
import type { Rand } from "./prng.ts";
import { ENGINE_ERRORS, HOSTILE_STRINGS, randomValue } from "./values.ts";

/** The template the inputs feed: declared, required, sensitive and derived variables. */
export const VAR_TEMPLATE = {
  variables: { a: "x", req: null, secret: "", derived: "{{user `a`}}-{{user `req`}}" },
  "sensitive-variables": ["secret"],
  builders: [{ type: "null", communicator: "none" }],
  provisioners: [{ type: "shell-local", inline: ["echo {{user `derived`}}"] }],
};

/** One invocation's inputs: flags, plus var files to write first (name → bytes). */
export interface VarCase {
  what: string;
  /** Flags before the template; var file paths start with VAR_DIR. */
  flags: string[];
  /** Var files to create: names (relative to VAR_DIR) mapped to bytes. */
  files: Record<string, Uint8Array>;
}

/** Stands for the directory the var files are written to; the trial substitutes it. */
export const VAR_DIR = "@VARDIR@/";

const NAMES = ["a", "req", "secret", "derived", "undeclared", "", " ", "a b", "é", "a=b", "-var"];

function value(rand: Rand): string {
  const v = rand.pick([...HOSTILE_STRINGS, ...ENGINE_ERRORS, "plain"]);
  return rand.chance(0.1) ? v.repeat(rand.pick([1000, 100000])) : v;
}

/** `count` fuzzed input sets. */
export function* varCases(rand: Rand, count: number): Generator<VarCase> {
  const enc = (t: string) => new TextEncoder().encode(t);
  for (let i = 0; i < count; i++) {
    const flags: string[] = [];
    const files: Record<string, Uint8Array> = {};
    const what: string[] = [];
    for (let n = 1 + rand.int(3); n > 0; n--) {
      const roll = rand();
      if (roll < 0.45) {
        const name = rand.pick(NAMES);
        const text = rand.chance(0.1) ? name : `${name}=${value(rand)}`;
        // Process arguments cannot hold NUL; the shell would refuse them first.
        flags.push(rand.chance(0.5) ? "-var" : "--var", text.replaceAll("\0", ""));
        what.push(`-var ${JSON.stringify(text.slice(0, 40))}`);
      } else {
        const file = `v${i}-${n}.${rand.chance(0.15) ? "yaml" : "json"}`;
        const [kind, bytes] = varFile(rand, file.endsWith(".yaml"));
        if (kind !== "missing") files[file] = bytes;
        if (rand.chance(0.5)) flags.push(`-var-file=${VAR_DIR}${file}`);
        else flags.push("-var-file", `${VAR_DIR}${file}`);
        what.push(`-var-file ${kind}`);
      }
    }
    if (rand.chance(0.5)) flags.push("-var", "req=given");
    yield { what: what.join(", "), flags, files };
  }

  function varFile(rand: Rand, yaml: boolean): [string, Uint8Array] {
    const doc: Record<string, unknown> = {};
    for (let k = rand.int(4); k > 0; k--) {
      doc[rand.pick(NAMES)] = rand.chance(0.6) ? value(rand) : randomValue(rand);
    }
    const text = yaml ? toYaml(doc) : JSON.stringify(doc);
    switch (rand.int(9)) {
      case 0:
        return ["missing", new Uint8Array()];
      case 1:
        return ["not an object", enc(JSON.stringify(rand.pick([[1, 2], "s", 3, null, true])))];
      case 2:
        return ["truncated", enc(text.slice(0, rand.int(text.length)))];
      case 3: {
        const bytes = enc(text);
        const bad = bytes.slice();
        bad[rand.int(bad.length || 1)] = rand.pick([0xff, 0xc0, 0x80]);
        return ["not UTF-8", bad];
      }
      case 4:
        return ["empty", new Uint8Array()];
      case 5:
        return ["with BOM", enc(`\uFEFF${text}`)];
      default:
        return ["hostile values", enc(text)];
    }
  }
}
