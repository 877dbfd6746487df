/**
 * `kiln hcl2_upgrade` on the users' reality: every public template of
 * ../shared/realworld that kiln's JSON front end reads is upgraded, and the
 * HCL2 it writes must parse and hold only configuration blocks
 * (`validate -syntax-only`), and call only functions kiln has. Packer 1.6.6
 * accepts the same outputs, except two whose `min_packer_version` is
 * 101.0.0 (checked by hand; Packer is not needed here). Found this way:
 * `legacy_isotime`, which the upgrade writes for `{{isotime}}`, was missing.
 */
import { assert } from "../assert.ts";
import { join } from "node:path";
import { parseTemplate } from "../../../template/parse.ts";
import { TemplateError } from "../../../template/types.ts";
import { checkHclConfigSyntax, HclConfigError } from "../../../template/hcl/mod.ts";
import { upgradeTemplateFile } from "../../../cli/hcl2_upgrade.ts";
import { FUNCTIONS } from "../../../template/hcl/functions/mod.ts";

const REALWORLD = new URL("../../../../shared/realworld/templates/", import.meta.url).pathname;

Deno.test("every real-world JSON template kiln reads upgrades to HCL2 that parses", async () => {
  const names = [...Deno.readDirSync(REALWORLD)]
    .filter((e) => e.isFile && e.name.endsWith(".json"))
    .map((e) => e.name)
    .sort();
  const dir = await Deno.makeTempDir({ prefix: "kiln-rw-upgrade-" });
  const failures: string[] = [];
  let upgraded = 0;
  try {
    for (const name of names) {
      try {
        await parseTemplate(join(REALWORLD, name));
      } catch (err) {
        if (err instanceof TemplateError) continue; // not a template kiln reads (issue 15)
        throw err;
      }
      const out = join(dir, name.replace(/\.json$/, ".pkr.hcl"));
      const { hcl } = await upgradeTemplateFile(join(REALWORLD, name), out);
      upgraded++;
      for (const m of hcl.matchAll(/\$\{([^}]*)\}/g)) {
        for (const call of m[1].matchAll(/([A-Za-z_][\w-]*)\(/g)) {
          // env() exists in variable defaults only, where the upgrade writes it.
          if (call[1] !== "env" && !Object.hasOwn(FUNCTIONS, call[1])) {
            failures.push(`${name}: calls ${call[1]}()`);
          }
        }
      }
      try {
        await checkHclConfigSyntax(out);
      } catch (err) {
        if (!(err instanceof HclConfigError)) throw err;
        failures.push(`${name}: ${err.message.split("\n")[0]}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(`${upgraded} of ${names.length} real-world templates upgraded`);
  assert(upgraded >= 100, `only ${upgraded} templates upgraded`);
  assert(failures.length === 0, failures.join("\n"));
});
