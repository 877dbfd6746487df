/**
 * `kiln inspect TEMPLATE`: the template's description, variables (sensitive
 * ones as `<sensitive>`), builds, provisioners and post-processors, laid out
 * as Packer 1.6.6 prints them (post-processors are kiln's addition).
 * Nothing is interpolated: values show in their raw form, as in Packer.
 */
import { parseTemplate } from "../template/parse.ts";
import { loadHclConfig } from "../template/prepare.ts";
import { kilnRegistry } from "../registry.ts";
import { isHclConfig } from "../template/hcl/files.ts";
import type { HclTemplate } from "../template/hcl/load.ts";
import { TemplateError } from "../template/types.ts";
import type { Template } from "../template/types.ts";
import { ArgsError, type FlagSpecs, isHelpRequest, parseCommandArgs } from "./args.ts";
import { type CommandOutput, commandOutput } from "./machine_readable.ts";
import { reportIssues } from "./validate.ts";

const FLAGS: FlagSpecs = { "machine-readable": { type: "boolean" } };

const USAGE = `Usage: kiln inspect [-machine-readable] TEMPLATE

  Inspects a template, parsing and outputting the components a template
  defines. This does not validate the contents of a template (other than
  basic syntax by necessity).`;

/** Writes the inspect report of a parsed template. */
export function printInspect(t: Template, out: CommandOutput): void {
  out.say("Packer Inspect: JSON mode");
  if (t.description) {
    out.say("Description:\n");
    out.say(t.description + "\n");
  }
  const names = Object.keys(t.variables).sort();
  if (names.length === 0) {
    out.say("Variables:\n");
    out.say("  <No variables>");
  } else {
    const required = names.filter((n) => t.variables[n].default === null);
    if (required.length > 0) {
      out.say("Required variables:\n");
      for (const n of required) {
        out.machine("template-variable", n, "", "1");
        out.say("  " + n);
      }
      out.say("");
    }
    out.say("Optional variables and their defaults:\n");
    const width = Math.max(...names.map((n) => n.length));
    for (const n of names) {
      const v = t.variables[n];
      if (v.default === null) continue;
      const shown = v.sensitive ? "<sensitive>" : v.default;
      out.machine("template-variable", n, shown, "0");
      out.say(`  ${n.padEnd(width)} = ${shown}`);
    }
  }
  out.say("");
  out.say("Builders:\n");
  const builders = [...t.builders].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  if (builders.length === 0) out.say("  <No builders>");
  const bWidth = Math.max(0, ...builders.map((b) => b.name.length));
  for (const b of builders) {
    out.machine("template-builder", b.name, b.type);
    out.say(`  ${b.name.padEnd(bWidth)}${b.name !== b.type ? ` (${b.type})` : ""}`);
  }
  out.say("");
  out.say("Provisioners:\n");
  if (t.provisioners.length === 0) out.say("  <No provisioners>");
  for (const p of t.provisioners) {
    out.machine("template-provisioner", p.type);
    out.say("  " + p.type);
  }
  out.say("");
  out.say("Post-processors:\n");
  if (t.postProcessors.length === 0) out.say("  <No post-processors>");
  t.postProcessors.forEach((chain, i) => {
    for (const pp of chain) {
      out.machine("template-post-processor", String(i), pp.type, pp.name ?? "");
    }
    out.say(
      "  " + chain.map((pp) => pp.name && pp.name !== pp.type ? `${pp.name} (${pp.type})` : pp.type)
        .join(" -> "),
    );
  });
  out.say(
    "\nNote: If your build names contain user variables or template\n" +
      "functions such as 'timestamp', these are processed at build time,\n" +
      "and therefore only show in their raw form here.",
  );
}

/** Writes the inspect report of an HCL configuration, laid out as Packer's HCL2 mode. */
export async function printHclInspect(t: HclTemplate, out: CommandOutput): Promise<void> {
  const { displayValue } = await import("../template/hcl/print.ts");
  const lines = ["Packer Inspect: HCL2 mode", "", "> input-variables:", ""];
  const show = (prefix: string, v: { name: string; value: unknown; sensitive: boolean }) =>
    `${prefix}.${v.name}: ${
      JSON.stringify(v.sensitive ? "<sensitive>" : displayValue(v.value as never))
    }`;
  for (const v of t.outline.variables) {
    out.machine("template-variable", v.name, v.sensitive ? "<sensitive>" : "", "0");
    lines.push(show("var", v));
  }
  lines.push("", "> local-variables:", "");
  for (const v of t.outline.locals) lines.push(show("local", v));
  lines.push("", "> builds:", "");
  t.outline.builds.forEach((b, i) => {
    lines.push(`  > ${b.name ?? `<unnamed build ${i}>`}:`, "", "    sources:", "");
    for (const s of b.sources) lines.push(`      ${s}`, "");
    lines.push("    provisioners:", "");
    if (b.provisioners.length === 0) lines.push("      <no provisioner>");
    for (const p of b.provisioners) lines.push(`      ${p}`);
    lines.push("", "    post-processors:", "");
    if (b.postProcessors.length === 0) lines.push("      <no post-processor>", "");
    b.postProcessors.forEach((chain, j) => {
      lines.push(`      ${j}:`, ...chain.map((p) => `        ${p}`), "");
    });
  });
  out.say(lines.join("\n"));
}

/** Runs `kiln inspect`; resolves to the exit code. */
export async function run(
  args: string[],
  io: { write?: (text: string, stream: "stdout" | "stderr") => void } = {},
): Promise<number> {
  if (isHelpRequest(args)) {
    commandOutput(false, io.write).say(USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseCommandArgs(args, FLAGS);
    if (parsed.positionals.length !== 1) {
      throw new ArgsError("exactly one template file is expected");
    }
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    commandOutput(false, io.write).error(`${err.message}\n\n${USAGE}`);
    return 1;
  }
  const out = commandOutput(parsed.values["machine-readable"] === true, io.write);
  try {
    const target = parsed.positionals[0];
    if (await isHclConfig(target)) {
      await printHclInspect(await loadHclConfig(target, {}, kilnRegistry, true), out);
    } else printInspect(await parseTemplate(target), out);
    return 0;
  } catch (err) {
    if (err instanceof TemplateError) {
      reportIssues(out, err, "Failed to parse template");
      return 1;
    }
    out.error(`kiln: internal error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
