/**
 * `kiln hcl2_upgrade` round trip (issue 14): every JSON/YAML template of the
 * corpus that kiln accepts and can build here in seconds is upgraded, and
 * the JSON and the HCL2 are built by kiln in separate scratch copies. Both
 * must end with the same exit status, the same output lines, the same files
 * and the same event-log shape. Builds are named `site` in JSON and
 * `file.site` in HCL2 (as in Packer): the comparison maps one onto the other
 * where kiln prints a build's name, never inside what the build itself wrote.
 *
 * Skipped (the first test prints each one with its reason): templates the
 * JSON front end rejects, builders other than null/file (qemu, amazon-*,
 * maas need VMs or clouds), null builders with an ssh/winrm communicator
 * (need sshd/WinRM), provisioners other than shell-local/file and enabled
 * breakpoints, post-processors other than compress/checksum/manifest/
 * shell-local/artifice, and templates that sleep 3 s or more.
 */
import { assert, assertEquals } from "../assert.ts";
import { parseTemplate } from "../../../template/parse.ts";
import { upgradeToFile } from "./upgrade_helpers.ts";
import { hclArgs, type RoundTripCase, roundTripCorpus } from "./roundtrip_corpus.ts";
import { type BuildOutcome, buildOutcome } from "./roundtrip_run.ts";

const { cases, skipped } = await roundTripCorpus();
const env = Deno.env.toObject();
if (!env.KILN_SEAL_DIR) env.KILN_SEAL_DIR = await Deno.makeTempDir({ prefix: "kiln-seal-" });
env.KILN_FIXTURE_ENV = "from-env";

/** At most this many builds at once: the machine has two cores. */
const PARALLEL = 3;
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(f: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await f();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Copies the template and the neighbours it names (scripts, var files) into `dir`. */
async function stage(c: RoundTripCase, dir: string): Promise<void> {
  const src = c.file.slice(0, c.file.lastIndexOf("/"));
  const base = c.file.slice(c.file.lastIndexOf("/") + 1);
  const text = await Deno.readTextFile(c.file) + c.args.join("\n");
  for await (const e of Deno.readDir(src)) {
    if (e.name !== base && !text.includes(e.name)) continue;
    await new Deno.Command("cp", { args: ["-r", `${src}/${e.name}`, dir] }).output();
  }
}

async function roundTrip(c: RoundTripCase): Promise<[BuildOutcome, BuildOutcome, string]> {
  const base = c.name.slice(c.name.lastIndexOf("/") + 1);
  const jsonDir = await Deno.makeTempDir({ prefix: "kiln-rt-json-" });
  const hclDir = await Deno.makeTempDir({ prefix: "kiln-rt-hcl-" });
  try {
    await stage(c, jsonDir);
    await stage(c, hclDir);
    await Deno.remove(`${hclDir}/${base}`);
    const hclName = base.replace(/\.(json|ya?ml)$/, ".pkr.hcl");
    await upgradeToFile(c.file, `${hclDir}/${hclName}`);
    const hcl = await Deno.readTextFile(`${hclDir}/${hclName}`);

    const builders = (await parseTemplate(c.file)).builders;
    const jsonNames = builders.map((b) => b.name);
    const sources = [...hcl.matchAll(/^source "([^"]+)" "([^"]+)"/gm)].map((m) =>
      `${m[1]}.${m[2]}`
    );
    // The upgrade names each source after its JSON build (spaces become _).
    const names = new Map(
      builders.map((b) => [`${b.type}.${b.name.trim().replaceAll(" ", "_")}`, b.name]),
    );
    assertEquals(
      sources.sort(),
      [...names.keys()].sort(),
      `the upgrade keeps every builder:\n${hcl}`,
    );

    const [json, upgraded] = await Promise.all([
      limited(() =>
        buildOutcome({
          dir: jsonDir,
          template: base,
          args: c.args,
          names: new Map(jsonNames.map((n) => [n, n])),
        }, env)
      ),
      limited(() =>
        buildOutcome({
          dir: hclDir,
          template: hclName,
          args: hclArgs(c.args, names),
          names,
          replace: [[hclName, base]],
        }, env)
      ),
    ]);
    return [json, upgraded, hcl];
  } finally {
    await Deno.remove(jsonDir, { recursive: true });
    await Deno.remove(hclDir, { recursive: true });
  }
}

Deno.test("round trip: the corpus has buildable templates, and every skip has a reason", () => {
  console.log(`round trip: ${cases.length} templates built, ${skipped.length} skipped`);
  for (const s of skipped) console.log(`  skipped ${s.name}: ${s.reason}`);
  assert(cases.length >= 20, `only ${cases.length} templates can be round-tripped`);
  for (const s of skipped) assert(s.reason !== "", s.name);
});

// Started together so that PARALLEL builds run at once; each test awaits its own.
const results = new Map(cases.map((c) => [c.name, roundTrip(c)]));
for (const p of results.values()) p.catch(() => {});

for (const c of cases) {
  Deno.test({
    name: `round trip: ${c.name} builds the same from its hcl2_upgrade`,
    // Every case's builds start at load time: other cases' processes are in flight.
    sanitizeOps: false,
    sanitizeResources: false,
  }, async () => {
    const [json, hcl, text] = await results.get(c.name)!;
    const where = `\n--- upgraded HCL2 ---\n${text}`;
    assertEquals(hcl.exit, json.exit, `exit status${where}\n${JSON.stringify(json.output)}`);
    assertEquals(hcl.output, json.output, `build output${where}`);
    assertEquals(hcl.artifacts, json.artifacts, `artifacts${where}`);
    assertEquals(hcl.events, json.events, `event log shape${where}`);
  });
}
