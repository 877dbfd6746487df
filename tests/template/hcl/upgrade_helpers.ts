/**
 * Helpers for hcl2_upgrade tests, reusable by the HCL front end's round-trip
 * tests: find the corpus of JSON templates, upgrade one to a chosen path, and
 * ask Packer 1.6.6 whether the result is valid HCL2.
 */
import { upgradeTemplateFile } from "../../../cli/hcl2_upgrade.ts";
import type { UpgradeResult } from "../../../template/hcl/upgrade.ts";

export { upgradeTemplateFile };

const ROOT = new URL("../../../", import.meta.url).pathname;

/** Upgrades `template` (JSON or YAML) and writes the HCL2 to `outFile`. */
export function upgradeToFile(template: string, outFile: string): Promise<UpgradeResult> {
  return upgradeTemplateFile(template, outFile);
}

/** Every JSON template under examples/ and tests/fixtures/ (absolute paths, sorted). */
export async function corpusTemplates(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isFile && e.name.endsWith(".json")) out.push(p);
    }
  };
  await walk(`${ROOT}examples`);
  await walk(`${ROOT}tests/fixtures`);
  return out.sort();
}

/** Whether a `packer` binary (the 1.6.6 oracle) is on PATH. */
export async function havePacker(): Promise<boolean> {
  try {
    const r = await new Deno.Command("packer", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

/** Runs `packer validate -syntax-only FILE`; resolves to its combined output, or "" on success. */
export async function packerSyntaxErrors(file: string): Promise<string> {
  const r = await new Deno.Command("packer", {
    args: ["validate", "-syntax-only", file],
    env: { CHECKPOINT_DISABLE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (r.success) return "";
  const dec = new TextDecoder();
  return (dec.decode(r.stdout) + dec.decode(r.stderr)).trim() || `exit ${r.code}`;
}
