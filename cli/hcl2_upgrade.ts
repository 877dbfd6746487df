/**
 * `kiln hcl2_upgrade [-output-file=PATH] TEMPLATE`: writes the HCL2
 * equivalent of a JSON (or YAML) template to TEMPLATE.pkr.hcl, as
 * `packer hcl2_upgrade` does. Wires the component registries into the
 * template layer's converter, which must not import them itself.
 */
import { parseTemplate } from "../template/parse.ts";
import { TemplateError } from "../template/types.ts";
import type { ConfigSchema } from "../template/schema.ts";
import { type SchemaLookup, type UpgradeResult, upgradeTemplate } from "../template/hcl/upgrade.ts";
import { loadBuilder } from "../builders/mod.ts";
import { loadProvisioner } from "../provisioners/mod.ts";
import { loadPostProcessor } from "../post_processors/mod.ts";
import { ArgsError, type FlagSpecs, isHelpRequest, parseCommandArgs } from "./args.ts";
import { commandOutput } from "./machine_readable.ts";
import { reportIssues } from "./validate.ts";

const FLAGS: FlagSpecs = {
  "output-file": { type: "string" },
  "with-annotations": { type: "boolean" },
  "machine-readable": { type: "boolean" },
};

const USAGE = `Usage: kiln hcl2_upgrade [options] TEMPLATE

  Will transform your JSON template into an HCL2 configuration.

Options:

  -output-file=path    Set output file name. By default this will be the
                       TEMPLATE name with ".pkr.hcl" appended to it. To be a
                       valid Packer HCL template, it must have the suffix
                       ".pkr.hcl"
  -with-annotations    Add comments explaining the HCL2 blocks to the file.`;

const ANNOTATION = `# Upgraded from a JSON template by 'kiln hcl2_upgrade'. Check it before use:
# Go-template calls with no HCL2 counterpart are kept as they were and
# flagged in a comment above their block. Variables whose default calls
# more than env() became locals; only/except name sources as type.name.
`;

/** Options for driving the command in-process (tests). */
export interface UpgradeIo {
  /** Receives everything the command writes; defaults to stdout/stderr. */
  write?: (text: string, stream: "stdout" | "stderr") => void;
}

/** The schema of a builder, provisioner or post-processor kiln knows. */
export const registrySchemas: SchemaLookup = async (kind, type): Promise<
  ConfigSchema | undefined
> => {
  const plugin = kind === "builder"
    ? loadBuilder(type)
    : kind === "provisioner"
    ? loadProvisioner(type)
    : loadPostProcessor(type);
  return plugin ? (await plugin).schema : undefined;
};

/**
 * Upgrades the template in `file` and writes the HCL2 to `outFile`.
 * Throws TemplateError when the template cannot be read or parsed, and one
 * naming `outFile` when it cannot be written.
 */
export async function upgradeTemplateFile(
  file: string,
  outFile: string,
  options: { annotations?: boolean } = {},
): Promise<UpgradeResult> {
  const template = await parseTemplate(file);
  const result = await upgradeTemplate(template, registrySchemas);
  try {
    // Like current Packer, the output's directory is created when missing.
    const parent = outFile.includes("/") ? outFile.slice(0, outFile.lastIndexOf("/")) : "";
    if (parent) await Deno.mkdir(parent, { recursive: true });
    await Deno.writeTextFile(outFile, (options.annotations ? ANNOTATION + "\n" : "") + result.hcl);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TemplateError([{ file: outFile, path: "", message: `cannot write: ${reason}` }]);
  }
  return result;
}

/** Runs `kiln hcl2_upgrade`; resolves to the exit code. */
export async function run(args: string[], io: UpgradeIo = {}): Promise<number> {
  if (isHelpRequest(args)) {
    commandOutput(false, io.write).say(USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseCommandArgs(args, FLAGS);
    if (parsed.positionals.length !== 1) {
      throw new ArgsError(
        parsed.positionals.length === 0
          ? "a template file is required"
          : `exactly one template file is expected, got ${parsed.positionals.length}`,
      );
    }
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    commandOutput(false, io.write).error(`${err.message}\n\n${USAGE}`);
    return 1;
  }
  const out = commandOutput(parsed.values["machine-readable"] === true, io.write);
  const file = parsed.positionals[0];
  const outFile = (parsed.values["output-file"] as string | undefined) ||
    `${file === "-" ? "stdin" : file}.pkr.hcl`;
  try {
    const result = await upgradeTemplateFile(file, outFile, {
      annotations: parsed.values["with-annotations"] === true,
    });
    for (const note of result.notes) out.error(`${file}: ${note}`);
    out.say(`Successfully created ${outFile}`);
    return 0;
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    reportIssues(out, err, "Failed to upgrade the template");
    return 1;
  }
}
