/**
 * `kiln demo [--output-dir DIR] [--file] [build flags]`: builds a real
 * machine image through `kiln build` — the qemu builder on a guest prepared
 * from Debian packages on first run (examples/demo.json; cli/demo_machine.ts)
 * — so it prints the run id and how to `kiln runs show` / `kiln replay` it.
 * Where qemu cannot run (not installed and not installable, no TCG, or
 * `KILN_QEMU_BINARY` naming no program) it says why and runs the file build
 * instead (examples/demo_file.json: file builder, shell-local, artifice,
 * compress, checksum, manifest, and a null build beside it). No cloud account.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import machineTemplate from "../examples/demo.json" with { type: "json" };
import fileTemplate from "../examples/demo_file.json" with { type: "json" };
import { run as build } from "./build.ts";
import { isHelpRequest } from "./args.ts";
import { prepareQemuHost, QEMU_BINARY_ENV } from "./demo_qemu_host.ts";
import { machineSummary, machineVars, prepareDemoGuest } from "./demo_machine.ts";

const DEFAULT_OUTPUT_DIR = join("output", "kiln-demo");

const USAGE = `Usage: kiln demo [--output-dir DIR] [--file] [build options]

  Builds a machine image with no cloud account (examples/demo.json): the
  qemu builder boots a small Debian-kernel guest's installer ISO, types its
  boot line over VNC, serves it a file over HTTP, provisions the installed
  disk over SSH, powers it off and compacts the disk to qcow2, then the
  image is checksummed (sha256) and recorded in a manifest. The guest is
  built from Debian packages on the first run and cached in
  \$XDG_CACHE_HOME/kiln/guests (default ~/.cache/kiln/guests); qemu and the
  tools are installed with apt when missing and kiln runs as root.

  Where qemu cannot run, it says why and runs the file build instead
  (examples/demo_file.json): a file artifact provisioned by shell-local,
  archived (.tar.gz), checksummed and recorded in a manifest, next to a
  null build. --file runs that build directly; ${QEMU_BINARY_ENV}=PATH picks
  the qemu binary (one that does not exist shows the fallback).

  Outputs go to DIR (default ${DEFAULT_OUTPUT_DIR}); build options such as
  -machine-readable or -on-error=abort are passed to \`kiln build\`.`;

/** Where a template is: the repository's copy, or the embedded one written into `outDir`. */
async function templatePath(name: string, embedded: unknown, outDir: string): Promise<string> {
  const url = new URL(`../examples/${name}`, import.meta.url);
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
  const path = join(outDir, name);
  await Deno.writeTextFile(path, JSON.stringify(embedded, null, 2) + "\n");
  return path;
}

/** What `kiln demo` was asked for. */
export interface DemoArgs {
  outDir: string;
  /** `--file`: the file build, without trying qemu. */
  fileOnly: boolean;
  /** Flags passed on to `kiln build`. */
  rest: string[];
}

/** Splits `--output-dir DIR` (or `-output-dir=DIR`) and `--file` from the flags passed on to build. */
export function parseDemoArgs(args: string[]): DemoArgs {
  let outDir = DEFAULT_OUTPUT_DIR;
  let fileOnly = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (/^--?file$/.test(args[i])) {
      fileOnly = true;
      continue;
    }
    const m = /^--?output-dir(?:=(.*))?$/.exec(args[i]);
    if (!m) {
      rest.push(args[i]);
      continue;
    }
    const value = m[1] ?? args[++i];
    if (value === undefined || value === "") throw new Error("--output-dir needs a directory");
    outDir = value;
  }
  return { outDir, fileOnly, rest };
}

const say = (line: string) => console.log(`kiln demo: ${line}`);

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
  if (parsed.fileOnly) return await fileDemo(parsed);
  const started = performance.now();
  say(`building a machine image with the qemu builder into ${resolve(parsed.outDir)}`);
  const host = await prepareQemuHost(say);
  if (!host.ok) return await fallBack(parsed, `qemu cannot run here: ${host.why}`);
  say(`qemu: ${host.binary} (TCG runs guests here)`);
  const guest = await prepareDemoGuest(say);
  if (!guest.ok) return await fallBack(parsed, guest.why);
  const template = await templatePath("demo.json", machineTemplate, parsed.outDir);
  say(`building ${template}\n`);
  // -force: a demo run replaces the previous demo's image and manifest.
  let runId = "";
  const code = await build([
    "-force",
    ...parsed.rest,
    "-var",
    `output_dir=${parsed.outDir}`,
    ...await machineVars(guest.guest, host.binary),
    template,
  ], { runId: (id) => runId = id });
  if (code === 0 && !parsed.rest.some((a) => /^--?machine-readable$/.test(a))) {
    const seconds = (performance.now() - started) / 1000;
    console.log(`\n${await machineSummary(parsed.outDir, seconds, runId)}`);
  }
  return code;
}

async function fallBack(parsed: DemoArgs, why: string): Promise<number> {
  say(`${why}.`);
  say(`falling back to the file build (no VM).`);
  return await fileDemo(parsed);
}

/** The file build: examples/demo_file.json. */
async function fileDemo(parsed: DemoArgs): Promise<number> {
  const template = await templatePath("demo_file.json", fileTemplate, parsed.outDir);
  say(`building ${template} into ${resolve(parsed.outDir)}\n`);
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
