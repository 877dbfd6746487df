/**
 * `kiln hcl2_upgrade` round trip on the prepared build model, for every
 * template of the corpus the JSON front end accepts — qemu and amazon ones
 * included, which roundtrip_test.ts cannot build here: the JSON template and
 * its upgrade, side by side in one directory, must prepare to the same
 * builds (type, decoded builder options, provisioners with their timing
 * options, error-cleanup provisioner, post-processor chains) and the same
 * variables and secrets. This is what the runtime consumes, so equal models
 * build alike.
 */
import { assertEquals } from "../assert.ts";
import { basename, dirname, join } from "node:path";
import { prepareTemplate } from "../../../template/prepare.ts";
import { kilnRegistry } from "../../../registry.ts";
import type { PreparedBuild, PreparedTemplate } from "../../../template/types.ts";
import { parseCommandArgs, TEMPLATE_INPUT_FLAGS, templateInputsFrom } from "../../../cli/args.ts";
import { parseTemplate } from "../../../template/parse.ts";
import { upgradeToFile } from "./upgrade_helpers.ts";
import { hclArgs, roundTripCorpus } from "./roundtrip_corpus.ts";

const { accepted } = await roundTripCorpus();

/**
 * A value as both front ends mean it. Late options (rendered at run time)
 * keep their Go text: the upgrade writes `{{ .X }}` for `{{.X}}`, and a
 * JSON template's `{{user `x`}}` there is the variable's value in HCL2.
 * `{{timestamp}}` is Unix seconds in JSON and YYYYMMDDhhmmss through the
 * upgrade's `local.timestamp`, as Packer writes it.
 */
function canonical(v: unknown, variables: Record<string, string>): unknown {
  if (typeof v === "string") {
    return v
      .replace(/\{\{\s*user\s+`([^`]+)`\s*\}\}/g, (_, name) => variables[name] ?? "")
      .replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, "{{$1}}")
      .replace(/\b(\d{10}|\d{14})\b/g, "<timestamp>");
  }
  if (Array.isArray(v)) return v.map((x) => canonical(x, variables));
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x, variables)]));
  }
  return v;
}

/** What a build does, without the names and JSON/HCL paths that differ by front end. */
function shape(b: PreparedBuild) {
  const prov = (p: PreparedBuild["provisioners"][number]) => ({
    type: p.type,
    config: p.config,
    pauseBefore: p.pauseBefore,
    maxRetries: p.maxRetries,
    timeout: p.timeout,
  });
  return {
    type: b.type,
    config: b.config,
    provisioners: b.provisioners.map(prov),
    errorCleanup: b.errorCleanupProvisioner ? prov(b.errorCleanupProvisioner) : undefined,
    postProcessors: b.postProcessors.map((chain) =>
      chain.map((p) => ({ type: p.type, config: p.config, keep: p.keepInputArtifact }))
    ),
  };
}

async function prepare(file: string, args: string[]): Promise<PreparedTemplate> {
  const inputs = templateInputsFrom(parseCommandArgs(args, TEMPLATE_INPUT_FLAGS));
  return await prepareTemplate(file, inputs, { registry: kilnRegistry, freshOutputs: true });
}

Deno.test("round trip (model): the corpus holds templates of every builder kiln has", () => {
  console.log(`round trip (model): ${accepted.length} templates`);
  const names = accepted.map((c) => c.name).join("\n");
  for (const kind of ["qemu", "amazon", "maas", "null", "file"]) {
    assertEquals(names.includes(kind), true, `no ${kind} template in the model round trip`);
  }
});

for (const c of accepted) {
  Deno.test(`round trip (model): ${c.name} prepares the same from its hcl2_upgrade`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "kiln-rt-model-" });
    try {
      // The template's whole directory: scripts, files and var-files it names resolve alike.
      const copy = join(dir, "t");
      const cp = await new Deno.Command("cp", { args: ["-r", dirname(c.file), copy] }).output();
      assertEquals(cp.code, 0, new TextDecoder().decode(cp.stderr));
      const json = join(copy, basename(c.file));
      const hcl = json.replace(/\.(json|ya?ml)$/, ".roundtrip.pkr.hcl");
      const { hcl: text } = await upgradeToFile(json, hcl);
      const builders = (await parseTemplate(json)).builders;
      const names = new Map(
        builders.map((b) => [`${b.type}.${b.name.trim().replaceAll(" ", "_")}`, b.name]),
      );
      const args = c.args.map((a) => a.replace("vars/", `${copy}/vars/`));
      const fromJson = await prepare(json, args);
      const fromHcl = await prepare(hcl, hclArgs(args, names));
      const where = `\n--- upgraded HCL2 ---\n${text}`;

      const byName = (p: PreparedTemplate, rename: (n: string) => string) =>
        canonical(
          Object.fromEntries(p.builds.map((b) => [rename(b.name), shape(b)])),
          p.variables,
        );
      assertEquals(
        byName(fromHcl, (n) => names.get(n) ?? `unexpected ${n}`),
        byName(fromJson, (n) => n),
        `prepared builds${where}`,
      );
      // Variables: those whose default calls more than env() became locals,
      // an undeclared one is declared with "" (docs/hcl2_upgrade.md).
      for (const [name, value] of Object.entries(fromJson.variables)) {
        if (!Object.hasOwn(fromHcl.variables, name)) {
          assertEquals(
            new RegExp(`^\\s+${name}\\s+=`, "m").test(text),
            true,
            `local ${name}${where}`,
          );
        } else if (!value.includes("{{") && !fromHcl.variables[name].includes("{{")) {
          assertEquals(canonical(fromHcl.variables[name], {}), canonical(value, {}), name + where);
        }
      }
      for (const [name, value] of Object.entries(fromHcl.variables)) {
        if (!Object.hasOwn(fromJson.variables, name)) assertEquals(value, "", name + where);
      }
      assertEquals(
        [...fromHcl.secrets].sort(),
        [...fromJson.secrets].sort(),
        `secrets${where}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
