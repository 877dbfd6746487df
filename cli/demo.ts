/**
 * `kiln demo [--output-dir DIR] [build flags]`: runs the embedded example
 * build (examples/demo.json: file builder, shell-local, artifice, compress,
 * checksum, manifest, and a null build beside it) through `kiln build`, so
 * it prints the run id and how to `kiln runs show` / `kiln replay` it. No
 * cloud account, no network.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import demoTemplate from "../examples/demo.json" with { type: "json" };
import { run as build } from "./build.ts";
import { isHelpRequest } from "./args.ts";

const DEFAULT_OUTPUT_DIR = join("output", "kiln-demo");

const USAGE = `Usage: kiln demo [--output-dir DIR] [build options]

  Runs kiln's example build (examples/demo.json) with no cloud account:
  a file artifact provisioned by shell-local, then archived (.tar.gz),
  checksummed (sha256) and recorded in a manifest, next to a null build.
  Outputs go to DIR (default ${DEFAULT_OUTPUT_DIR}); build options such as
  -machine-readable or -on-error=abort are passed to \`kiln build\`.`;

/** Where the template is: the repository's copy, or the embedded one written into `outDir`. */
async function templatePath(outDir: string): Promise<string> {
  const url = new URL("../examples/demo.json", import.meta.url);
  if (url.protocol === "file:") {
    const path = fileURLToPath(url);
    try {
      await Deno.stat(path);
      return path;
    } catch {
      // Not shipped beside the code (e.g. a compiled binary): use the embedded copy.
    }
  }
  await Deno.mkdir(outDir, { recursive: true });
  const path = join(outDir, "demo.json");
  await Deno.writeTextFile(path, JSON.stringify(demoTemplate, null, 2) + "\n");
  return path;
}

/** Splits `--output-dir DIR` (or `-output-dir=DIR`) from the flags passed on to build. */
export function parseDemoArgs(args: string[]): { outDir: string; rest: string[] } {
  let outDir = DEFAULT_OUTPUT_DIR;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--?output-dir(?:=(.*))?$/.exec(args[i]);
    if (!m) {
      rest.push(args[i]);
      continue;
    }
    const value = m[1] ?? args[++i];
    if (value === undefined || value === "") throw new Error("--output-dir needs a directory");
    outDir = value;
  }
  return { outDir, rest };
}

/** Runs `kiln demo`; resolves to the build's exit code. */
export async function run(args: string[]): Promise<number> {
  if (isHelpRequest(args)) {
    console.log(USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseDemoArgs(args);
  } catch (err) {
    console.error(`kiln demo: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const template = await templatePath(parsed.outDir);
  console.log(`kiln demo: building ${template} into ${resolve(parsed.outDir)}\n`);
  // -force: a demo run replaces the previous demo's manifest instead of appending to it.
  const code = await build([
    "-force",
    ...parsed.rest,
    "-var",
    `output_dir=${parsed.outDir}`,
    template,
  ]);
  if (code === 0) {
    console.log(
      `\nkiln demo: artifacts in ${parsed.outDir}/ — verify the archive with ` +
        `\`(cd ${parsed.outDir} && sha256sum -c site.sha256)\``,
    );
  }
  return code;
}
