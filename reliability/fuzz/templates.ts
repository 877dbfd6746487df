/**
 * Structure-aware template mutations: real templates (examples/ and the test
 * corpus) with keys dropped, duplicated, renamed or retyped, the wrong JSON
 * type at any path, deep nesting, hostile unicode, huge strings, template
 * engine syntax errors, truncation, YAML spelling and non-UTF-8 bytes.
 */
import { stringify as toYaml } from "yaml";
import type { Rand } from "./prng.ts";
import {
  ENGINE_ERRORS,
  everyWrongType,
  hostileString,
  KEYS,
  randomValue,
  setKey,
  wrongTypeFor,
} from "./values.ts";

/** One fuzzed template file. */
export interface TemplateCase {
  /** What was done, for the failure line ("drop builders[0].type"). */
  what: string;
  /** File extension: json or yaml. */
  ext: "json" | "yaml";
  /** The file's bytes. */
  bytes: Uint8Array;
}

/** A real template to mutate. */
export interface Seed {
  /** Path relative to the project root. */
  name: string;
  doc: unknown;
}

const ROOT = new URL("../../", import.meta.url).pathname;
const SEED_DIRS = [
  "examples",
  "tests/fixtures/templates",
  "tests/fixtures/packer/templates",
  "tests/runtime/fixtures",
];

/** Every JSON template of the examples and the test corpus that parses. */
export function loadSeeds(): Seed[] {
  const seeds: Seed[] = [];
  for (const dir of SEED_DIRS) {
    const names = [...Deno.readDirSync(ROOT + dir)].filter((e) =>
      e.isFile && e.name.endsWith(".json") && !e.name.endsWith(".kiln.json")
    ).map((e) => e.name).sort();
    for (const name of names) {
      try {
        const doc = JSON.parse(Deno.readTextFileSync(`${ROOT}${dir}/${name}`));
        if (doc && typeof doc === "object" && !Array.isArray(doc)) {
          seeds.push({ name: `${dir}/${name}`, doc });
        }
      } catch { /* corpus entries that are meant to be unparseable */ }
    }
  }
  return seeds;
}

type Json = Record<string, unknown> | unknown[];

/** Every value in the tree with its JSON path and its holder. */
function nodes(
  value: unknown,
  path = "",
  out: { path: string; holder?: Json; key?: string }[] = [],
) {
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const child = Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
      out.push({ path: child, holder: value as Json, key: k });
      nodes(v, child, out);
    }
  }
  return out;
}

function containers(value: unknown): { path: string; node: Json }[] {
  const out: { path: string; node: Json }[] = [{ path: "", node: value as Json }];
  for (const n of nodes(value)) {
    const v = (n.holder as Record<string, unknown>)[n.key!];
    if (v && typeof v === "object") out.push({ path: n.path, node: v as Json });
  }
  return out;
}

function put(holder: Json, key: string, value: unknown): void {
  if (Array.isArray(holder)) holder[Number(key)] = value;
  else setKey(holder, key, value);
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Marks where the text gets deep nesting (too deep for JSON.stringify or YAML to build). */
const DEEP = "@@kiln-fuzz-deep:";

/** The document's text with the deep-nesting markers expanded. */
function serialize(doc: unknown, indent: number): string {
  return JSON.stringify(doc, null, indent).replace(
    new RegExp(`"${DEEP}(\\d+):(\\w+)"`, "g"),
    (_, n, kind) =>
      kind === "array"
        ? "[".repeat(Number(n)) + '"x"' + "]".repeat(Number(n))
        : '{"a":'.repeat(Number(n)) + '"x"' + "}".repeat(Number(n)),
  );
}

function jsonCase(what: string, doc: unknown, rand: Rand): TemplateCase {
  const text = serialize(doc, rand.chance(0.5) ? 2 : 0);
  if (rand.chance(0.08)) {
    // JSON is YAML too; a real YAML spelling when the document is small enough to convert.
    const yaml = JSON.stringify(doc).includes(DEEP) || text.length > 1 << 20
      ? text
      : toYaml(JSON.parse(text));
    return { what: `${what}, as YAML`, ext: "yaml", bytes: encode(yaml) };
  }
  return { what, ext: "json", bytes: encode(text) };
}

/** The structure-aware mutations; each edits `doc` in place and says what it did. */
const MUTATIONS: ((doc: unknown, rand: Rand) => string)[] = [
  function dropKey(doc, rand) {
    const all = nodes(doc);
    if (all.length === 0) return "nothing to drop";
    const n = rand.pick(all);
    if (Array.isArray(n.holder)) n.holder.splice(Number(n.key), 1);
    else delete (n.holder as Record<string, unknown>)[n.key!];
    return `drop ${n.path}`;
  },
  function retype(doc, rand) {
    const all = nodes(doc);
    if (all.length === 0) return "nothing to retype";
    const n = rand.pick(all);
    put(n.holder!, n.key!, wrongTypeFor((n.holder as Record<string, unknown>)[n.key!], rand));
    return `retype ${n.path}`;
  },
  function addKey(doc, rand) {
    const objects = containers(doc).filter((c) => !Array.isArray(c.node));
    const c = rand.pick(objects);
    const key = rand.pick(KEYS);
    setKey(c.node as Record<string, unknown>, key, randomValue(rand));
    return `add ${c.path || "(root)"}.${key}`;
  },
  function renameKey(doc, rand) {
    const objects = containers(doc).filter((c) =>
      !Array.isArray(c.node) && Object.keys(c.node).length > 0
    );
    if (objects.length === 0) return "nothing to rename";
    const c = rand.pick(objects);
    const o = c.node as Record<string, unknown>;
    const from = rand.pick(Object.keys(o));
    const to = rand.chance(0.5) ? from.toUpperCase() : `${from}_`;
    setKey(o, to, o[from]);
    delete o[from];
    return `rename ${c.path}.${from} to ${to}`;
  },
  function duplicateElement(doc, rand) {
    const arrays = containers(doc).filter((c) => Array.isArray(c.node) && c.node.length > 0);
    if (arrays.length === 0) return "no array to duplicate in";
    const c = rand.pick(arrays);
    const list = c.node as unknown[];
    list.push(structuredClone(rand.pick(list)));
    return `duplicate an element of ${c.path}`;
  },
  function engineError(doc, rand) {
    const strings = nodes(doc).filter((n) =>
      typeof (n.holder as Record<string, unknown>)[n.key!] === "string"
    );
    if (strings.length === 0) return "no string";
    const n = rand.pick(strings);
    const old = (n.holder as Record<string, unknown>)[n.key!] as string;
    const frag = rand.pick(ENGINE_ERRORS);
    put(n.holder!, n.key!, rand.chance(0.5) ? old + frag : frag);
    return `template syntax ${JSON.stringify(frag)} in ${n.path}`;
  },
  function hostile(doc, rand) {
    const all = nodes(doc);
    if (all.length === 0) return "nothing";
    const n = rand.pick(all);
    put(n.holder!, n.key!, hostileString(rand));
    return `hostile string in ${n.path}`;
  },
  function hugeString(doc, rand) {
    const all = nodes(doc);
    if (all.length === 0) return "nothing";
    const n = rand.pick(all);
    const size = rand.pick([65536, 1 << 20, 4 << 20]);
    put(n.holder!, n.key!, (rand.chance(0.5) ? "{{ user `x` }}" : "é").repeat(size / 16));
    return `huge string (${size / 16} repeats) in ${n.path}`;
  },
  function deepNesting(doc, rand) {
    const all = nodes(doc);
    if (all.length === 0) return "nothing";
    const n = rand.pick(all);
    const depth = rand.pick([64, 1000, 20000, 200000]);
    put(n.holder!, n.key!, `${DEEP}${depth}:${rand.chance(0.5) ? "array" : "object"}`);
    return `${depth} levels of nesting in ${n.path}`;
  },
];

/** `count` mutants of the seeds, 1–3 mutations each; some as raw text edits. */
export function* mutatedTemplates(
  seeds: Seed[],
  rand: Rand,
  count: number,
): Generator<TemplateCase> {
  // Templates the corpus rejects are seeds too, but mutants of valid ones reach deeper.
  const valid = seeds.filter((s) => !/\/reject-/.test(s.name));
  for (let i = 0; i < count; i++) {
    const seed = rand.pick(rand.chance(0.8) && valid.length > 0 ? valid : seeds);
    const doc = structuredClone(seed.doc);
    const done: string[] = [];
    for (let m = 1 + rand.int(3); m > 0; m--) done.push(rand.pick(MUTATIONS)(doc, rand));
    const what = `${seed.name}: ${done.join("; ")}`;
    const roll = rand();
    if (roll < 0.06) yield truncated(what, doc, rand);
    else if (roll < 0.1) yield duplicateKey(what, doc, rand);
    else if (roll < 0.13) yield withBadBytes(what, doc, rand);
    else yield jsonCase(what, doc, rand);
  }
}

function truncated(what: string, doc: unknown, rand: Rand): TemplateCase {
  const text = serialize(doc, 2);
  const at = rand.int(text.length);
  return {
    what: `${what}; truncated at byte ${at}`,
    ext: "json",
    bytes: encode(text.slice(0, at)),
  };
}

/** The same key twice in one object (only expressible in the text). */
function duplicateKey(what: string, doc: unknown, rand: Rand): TemplateCase {
  const objects = containers(doc).filter((c) =>
    !Array.isArray(c.node) && Object.keys(c.node).length > 0
  );
  if (objects.length === 0) return jsonCase(what, doc, rand);
  const c = rand.pick(objects);
  const key = rand.pick(Object.keys(c.node));
  setKey(c.node as Record<string, unknown>, "\u0001dup", randomValue(rand));
  const text = serialize(doc, 0).replace('"\\u0001dup"', JSON.stringify(key));
  return { what: `${what}; duplicate key ${c.path}.${key}`, ext: "json", bytes: encode(text) };
}

/** Bytes that are not UTF-8 (a lone continuation byte, an overlong form, 0xff) spliced in. */
function withBadBytes(what: string, doc: unknown, rand: Rand): TemplateCase {
  const bytes = encode(serialize(doc, 2));
  const bad = rand.pick([[0xff], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xfe, 0xff]]);
  const at = rand.int(bytes.length + 1);
  const out = new Uint8Array(bytes.length + bad.length);
  out.set(bytes.subarray(0, at));
  out.set(bad, at);
  out.set(bytes.subarray(at), at + bad.length);
  return {
    what: `${what}; bytes ${bad.map((b) => b.toString(16))} at ${at}`,
    ext: "json",
    bytes: out,
  };
}

/** For one seed: every JSON path × every JSON type that is wrong there. */
export function* wrongTypeAtEveryPath(seed: Seed): Generator<TemplateCase> {
  for (const n of nodes(seed.doc)) {
    const value = (n.holder as Record<string, unknown>)[n.key!];
    for (const wrong of everyWrongType(value)) {
      const doc = structuredClone(seed.doc);
      const holder = nodes(doc).find((m) => m.path === n.path)!;
      put(holder.holder!, holder.key!, wrong);
      yield {
        what: `${seed.name}: ${n.path} = ${JSON.stringify(wrong)}`,
        ext: "json",
        bytes: encode(JSON.stringify(doc, null, 2)),
      };
    }
  }
}
