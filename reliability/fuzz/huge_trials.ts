/**
 * Huge inputs through the real `kiln` process: a 100 MB shell-local script,
 * a 100 MB file uploaded by the file provisioner over SSH, a template with
 * 10,000 provisioners, a template file of tens of megabytes. Each must run
 * correctly (checked, not assumed) or fail with a clear error.
 */
import { join } from "node:path";
import type { ScenarioResult } from "../types.ts";
import { badOutcome, runCliProcess, type TrialOutput } from "./run_cli.ts";
import { openLab } from "../support/labs.ts";

/** Sizes for one campaign size. */
export interface HugeSizes {
  scriptBytes: number;
  uploadBytes: number;
  provisioners: number;
  templateBytes: number;
  timeoutMs: number;
}

function mb(n: number): string {
  return `${Math.round(n / (1 << 20))} MB`;
}

async function build(dir: string, template: unknown, timeoutMs: number): Promise<TrialOutput> {
  const file = join(dir, "template.json");
  await Deno.writeTextFile(file, JSON.stringify(template));
  return await runCliProcess(
    { args: ["build", file], cwd: dir, env: { KILN_HOME: join(dir, ".kiln") } },
    timeoutMs,
  );
}

/** A shell script of `bytes` (comment lines) that ends by printing a marker. */
async function writeHugeScript(path: string, bytes: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const line = new TextEncoder().encode(`# ${"x".repeat(1021)}\n`);
  const block = new Uint8Array(line.length * 1024);
  for (let i = 0; i < 1024; i++) block.set(line, i * line.length);
  await file.write(new TextEncoder().encode("#!/bin/sh\n"));
  for (let left = bytes; left > 0; left -= block.length) {
    await file.write(block.subarray(0, Math.min(left, block.length)));
  }
  await file.write(new TextEncoder().encode('\necho "huge script ran to its end"\n'));
}

/** The huge-input trials; one row each. */
export async function hugeTrials(dir: string, sizes: HugeSizes): Promise<ScenarioResult[]> {
  const rows: ScenarioResult[] = [];
  const trial = async (scenario: string, fn: (d: string) => Promise<string | undefined>) => {
    const d = join(dir, `huge-${rows.length}`);
    await Deno.mkdir(d, { recursive: true });
    let problem: string | undefined;
    try {
      problem = await fn(d);
    } catch (err) {
      problem = `trial error: ${err instanceof Error ? err.message : err}`;
    } finally {
      await Deno.remove(d, { recursive: true }).catch(() => {});
    }
    rows.push({
      scenario,
      trials: 1,
      passed: problem ? 0 : 1,
      leaked: 0,
      lostEvents: 0,
      failures: problem ? [problem] : [],
    });
  };

  await trial(`huge input: ${mb(sizes.scriptBytes)} shell-local script`, async (d) => {
    await writeHugeScript(join(d, "huge.sh"), sizes.scriptBytes);
    const out = await build(d, {
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [{ type: "shell-local", script: join(d, "huge.sh") }],
    }, sizes.timeoutMs);
    return badOutcome(out, { allowSuccess: true }) ??
      (out.code === 0 && !out.stdout.includes("huge script ran to its end")
        ? "build succeeded without running the script to its end"
        : undefined);
  });

  await trial(`huge input: ${mb(sizes.uploadBytes)} file provisioner upload over SSH`, async () => {
    const lab = await openLab("null-ssh", { uploadMiB: Math.round(sizes.uploadBytes / (1 << 20)) });
    try {
      const out = await runCliProcess({
        args: ["build", ...lab.buildArgs],
        cwd: lab.dir,
        env: { KILN_HOME: lab.home, TMPDIR: lab.tmp },
      }, sizes.timeoutMs);
      const bad = badOutcome(out, { allowSuccess: true });
      if (bad || out.code !== 0) return bad;
      const arrived = (await lab.artifacts())["payload.bin"];
      return arrived === "whole" ? undefined : `the uploaded file is ${arrived}`;
    } finally {
      await lab.close();
    }
  });
  await trial(`huge input: ${sizes.provisioners} provisioners (validate and build)`, async (d) => {
    const counter = join(d, "count");
    const template = {
      builders: [{ type: "null", communicator: "none" }],
      provisioners: Array.from(
        { length: sizes.provisioners },
        (_, i) =>
          i % 1000 === 999
            ? { type: "shell-local", inline: [`echo ${i} >> ${counter}`] }
            : { type: "breakpoint", disable: true, note: `provisioner ${i}` },
      ),
    };
    const file = join(d, "template.json");
    await Deno.writeTextFile(file, JSON.stringify(template));
    const validated = await runCliProcess({ args: ["validate", file], cwd: d }, sizes.timeoutMs);
    const bad = badOutcome(validated, { allowSuccess: true });
    if (bad) return `validate: ${bad}`;
    const out = await build(d, template, sizes.timeoutMs);
    const built = badOutcome(out, { allowSuccess: true });
    if (built || out.code !== 0) return built;
    const lines = (await Deno.readTextFile(counter)).trim().split("\n").length;
    return lines === Math.floor(sizes.provisioners / 1000)
      ? undefined
      : `${lines} of ${Math.floor(sizes.provisioners / 1000)} marker provisioners ran`;
  });

  await trial(`huge input: ${mb(sizes.templateBytes)} template file`, async (d) => {
    const variables: Record<string, string> = {};
    const per = 1 << 16;
    for (let i = 0; i * per < sizes.templateBytes; i++) variables[`v${i}`] = "y".repeat(per);
    const file = join(d, "template.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ variables, builders: [{ type: "null", communicator: "none" }] }),
    );
    const out = await runCliProcess({ args: ["validate", file], cwd: d }, sizes.timeoutMs);
    return badOutcome(out, { allowSuccess: true });
  });
  return rows;
}
