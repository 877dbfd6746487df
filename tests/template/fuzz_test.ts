/**
 * Fuzzing: structure-aware random mutations of valid templates go through
 * prepareTemplate and the validate command in-process. The only acceptable
 * failure is a TemplateError (validate: exit 1 with a listed error); anything
 * else is a crash. The PRNG is seeded (KILN_FUZZ_SEED) so a failure reproduces.
 */
import { assert } from "./assert.ts";
import { prepareTemplate } from "../../template/prepare.ts";
import { TemplateError } from "../../template/types.ts";
import { run as validate } from "../../cli/validate.ts";
import { withTempDir } from "./helpers.ts";
import { prng, type Rand } from "../../reliability/fuzz/prng.ts";
import { KEYS, randomValue } from "../../reliability/fuzz/values.ts";
import { kilnRegistry } from "../../registry.ts";

const SEED = Number(Deno.env.get("KILN_FUZZ_SEED") ?? 20261122);
const CASES = 1000;
const THROUGH_CLI_EVERY = 4;

const seeds: unknown[] = [
  {
    description: "seed",
    variables: { a: "x", b: "{{user `a`}}-y", req: null, home: "{{env `HOME`}}" },
    "sensitive-variables": ["a"],
    builders: [
      { type: "null", name: "n", communicator: "none" },
      {
        type: "file",
        target: "out-{{build_name}}.txt",
        content: "{{user `b`}} {{isotime `2006`}}",
      },
      {
        type: "null",
        name: "ssh",
        ssh_host: "127.0.0.1",
        ssh_username: "u",
        ssh_password: "p",
        ssh_port: 22,
      },
    ],
    provisioners: [
      {
        type: "shell-local",
        inline: ["echo {{build_name}}", "echo {{ build `ID` }}"],
        only: ["n"],
      },
      { type: "breakpoint", disable: true, pause_before: "1s", max_retries: 1, timeout: "1m" },
      { type: "shell-local", inline: ["x"], override: { n: { inline: ["y"] } }, except: ["ssh"] },
    ],
    "error-cleanup-provisioner": { type: "shell-local", inline: ["cleanup"] },
    "post-processors": [
      "checksum",
      { type: "compress", output: "{{.BuildName}}.tar.gz", keep_input_artifact: true },
      [{ type: "manifest", name: "m" }, {
        type: "shell-local",
        inline: ["echo done"],
        only: ["file"],
      }],
    ],
  },
];
const corpusDir = new URL("../fixtures/templates/", import.meta.url).pathname;
for (const entry of Deno.readDirSync(corpusDir)) {
  if (/^(accept|build)-.*\.json$/.test(entry.name) && !entry.name.endsWith(".kiln.json")) {
    seeds.push(JSON.parse(Deno.readTextFileSync(corpusDir + entry.name)));
  }
}

const FRAGMENTS = [
  "{{",
  "}}",
  "{{ user `a` }}",
  "{{ env `HOME` }}",
  "{{ build `Host` }}",
  "{{ .Path }}",
  "{{-",
  "-}}",
  "{{ split build_name `-` 9 }}",
  "{{ printf `%d` `x` }}",
  "{{ if }}",
  "{{ end }}",
  "{{ range . }}",
  "`",
  '"',
  "\\",
  "{{ isotime `Z07:00 .999 _2 __2` }}",
  "{{ strftime `%Y %` }}",
  "{{ frob }}",
  "{{ vault `a` `b` }}",
  "{{ replace `a` `b` -1 (user `a`) }}",
  "{{ (((( }}",
  "{{ $x := 1 }}{{ $x }}",
  "null",
  "file",
  "shell-local",
  "1h5m",
  "5x",
  "0x10",
  "\u0000",
  "é",
  "{{/* c */}}",
  "{{ 'ab' }}",
];
function mutator(rand: Rand) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const randomString = (): string => {
    let s = "";
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) s += pick(FRAGMENTS);
    return s;
  };
  /** Every container in the tree with the path to it. */
  const containers = (v: unknown, out: (Record<string, unknown> | unknown[])[] = []) => {
    if (v && typeof v === "object") {
      out.push(v as Record<string, unknown>);
      for (const child of Object.values(v)) containers(child, out);
    }
    return out;
  };
  /** Rewrites a few string leaves with template fragments: keeps the structure valid. */
  const mutateStrings = (root: unknown): unknown => {
    const holders = containers(root).filter((c) =>
      Object.values(c).some((v) => typeof v === "string")
    );
    for (let m = 1 + Math.floor(rand() * 3); m > 0 && holders.length > 0; m--) {
      const holder = pick(holders) as Record<string, unknown>;
      const key = pick(Object.keys(holder).filter((k) => typeof holder[k] === "string"));
      if (key === "type" || key === "name") continue;
      holder[key] = rand() < 0.5 ? (holder[key] as string) + randomString() : randomString();
    }
    return root;
  };
  return (doc: unknown): unknown => {
    const root = structuredClone(doc);
    if (rand() < 0.4) return mutateStrings(root);
    for (let m = 1 + Math.floor(rand() * 3); m > 0; m--) {
      const targets = containers(root);
      const target = pick(targets);
      const keys = Object.keys(target);
      const key = keys.length > 0 ? pick(keys) : undefined;
      const op = Math.floor(rand() * 7);
      if (Array.isArray(target)) {
        const i = key === undefined ? 0 : Number(key);
        if (op === 0 && key !== undefined) target.splice(i, 1);
        else if (op === 1 && key !== undefined) target.push(structuredClone(target[i]));
        else target[i] = randomValue(rand);
      } else {
        const rec = target as Record<string, unknown>;
        if (op === 0 && key !== undefined) delete rec[key];
        else if (op === 1) {
          // defineProperty so that "__proto__" becomes a real key of the JSON text.
          Object.defineProperty(rec, pick(KEYS), {
            value: randomValue(rand),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else if (op === 2 && key !== undefined && typeof rec[key] === "string") {
          rec[key] = (rec[key] as string) + randomString();
        } else if (op === 3 && key !== undefined) rec[key] = [rec[key]];
        else if (key !== undefined) rec[key] = randomValue(rand);
        else rec[pick(KEYS)] = randomValue(rand);
      }
    }
    return root;
  };
}

Deno.test(`fuzz: ${CASES} mutated templates never crash prepareTemplate or validate (seed ${SEED})`, async () => {
  const rand = prng(SEED);
  const mutate = mutator(rand);
  let rejected = 0;
  await withTempDir(async (dir) => {
    for (let i = 0; i < CASES; i++) {
      const doc = mutate(seeds[Math.floor(rand() * seeds.length)]);
      let text = JSON.stringify(doc, null, rand() < 0.5 ? 2 : undefined);
      if (rand() < 0.08) text = text.slice(0, Math.floor(rand() * text.length));
      const ext = rand() < 0.1 ? "yaml" : "json";
      const file = `${dir}/case-${i}.${ext}`;
      await Deno.writeTextFile(file, text);
      const inputs = {
        vars: rand() < 0.3 ? [{ kind: "var" as const, name: "a", value: "{{ upper `v` }}" }] : [],
        only: rand() < 0.1 ? ["n", "fi*"] : undefined,
        except: rand() < 0.1 ? ["ssh", "m"] : undefined,
      };
      const where = `case ${i} (KILN_FUZZ_SEED=${SEED}):\n${text}`;
      try {
        await prepareTemplate(file, inputs, { registry: kilnRegistry });
      } catch (err) {
        if (!(err instanceof TemplateError)) {
          throw new Error(
            `crash in prepareTemplate, ${where}\n${err instanceof Error ? err.stack : err}`,
          );
        }
        rejected++;
        assert(err.issues.length > 0 && err.issues.every((x) => x.message), where);
      }
      if (i % THROUGH_CLI_EVERY === 0) {
        let output = "";
        const code = await validate(["-var", "a=1", file], { write: (t) => (output += t) });
        assert(code === 0 || code === 1, `validate exit ${code}, ${where}`);
        assert(!output.includes("internal error"), `validate crashed: ${output}\n${where}`);
        assert(!/\n\s+at /.test(output), `stack trace in validate output: ${output}\n${where}`);
      }
      await Deno.remove(file);
    }
  });
  // Mutations must actually exercise both outcomes, or the fuzzer tests nothing.
  assert(rejected > CASES / 10 && rejected < CASES, `rejected ${rejected} of ${CASES}`);
});
