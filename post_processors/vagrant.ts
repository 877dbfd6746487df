/**
 * The `vagrant` post-processor (Packer's): turns a builder's artifact into
 * a Vagrant box — a tar (gzip'd unless compression_level is 0) holding
 * metadata.json, a Vagrantfile and the provider's files (a qemu disk as
 * box.img for libvirt; nothing but the region → AMI map for aws). The disk
 * is streamed from where the builder left it straight into the box: no
 * copy in a temporary directory, never held in memory. The box is written
 * under a partial name the runtime has claimed in the ledger and renamed
 * into place when complete, as compress does.
 */
import { dirname } from "node:path";
import type { PostProcessContext, PostProcessorPlugin } from "./post_processor.ts";
import type { Artifact } from "../runtime/types.ts";
import type { ConfigSchema } from "../template/schema.ts";
import { decodeConfig } from "../template/decode.ts";
import { childPath } from "../template/source.ts";
import { type TarEntry, tarStream } from "./tar.ts";
import { partialOf, writeAtomically } from "./atomic_output.ts";
import { KNOWN_PROVIDERS, PROVIDER_OF_BUILDER, providerFor } from "./vagrant_providers.ts";

/** The vagrant post-processor's artifact id. */
export const VAGRANT_BUILDER_ID = "mitchellh.post-processor.vagrant";

/** Packer 1.6.6's default box name. */
export const DEFAULT_BOX_OUTPUT = "packer_{{.BuildName}}_{{.Provider}}.box";

/** Packer's words for a level gzip refuses. */
const BAD_LEVEL = "Invalid compression level. Expected an integer from -1 to 9.";

/** The options `override.<provider>` may change. */
const boxFields: ConfigSchema["fields"] = {
  output: {
    type: "string",
    late: true,
    doc: "box path; {{.Provider}}, {{.ArtifactId}}, {{.BuildName}}, {{.Architecture}}",
  },
  compression_level: { type: "int", doc: "gzip level 1 (fast) to 9 (small); 0: a plain tar" },
  include: { type: "string_list", doc: "extra files put in the box under their base names" },
  vagrantfile_template: {
    type: "string",
    doc: "file whose rendered text is appended to the box's Vagrantfile",
  },
  vagrantfile_template_generated: {
    type: "bool",
    doc: "the vagrantfile_template is made during the build: not checked when validating",
  },
  architecture: {
    type: "string",
    doc: "the box's architecture, written to metadata.json (e.g. amd64, arm64)",
  },
};

const overrideSchema: ConfigSchema = { fields: boxFields };

/** Decoded `override.<provider>` options, on top of the post-processor's own. */
function specificConfig(
  config: Record<string, unknown>,
  provider: string,
): Record<string, unknown> {
  const override = (config.override as Record<string, unknown> | undefined)?.[provider];
  if (!override || typeof override !== "object") return config;
  const problems: string[] = [];
  const decoded = decodeConfig(
    override as Record<string, unknown>,
    overrideSchema,
    childPath("override", provider),
    (path, message) => problems.push(`${path}: ${message}`),
  );
  if (problems.length > 0) throw new Error(problems.join("; "));
  return { ...config, ...decoded };
}

/** The provider for `input`: `provider_override`, else by the artifact's builder id. */
function providerName(config: Record<string, unknown>, input: Artifact): string {
  const override = typeof config.provider_override === "string" ? config.provider_override : "";
  if (override) return override;
  const name = PROVIDER_OF_BUILDER[input.builderId];
  if (!name) {
    if (input.builderId === "packer.post-processor.artifice") {
      throw new Error(
        "Unknown provider type: When using an artifact created by the artifice " +
          "post-processor, you need to set the provider_override option.",
      );
    }
    throw new Error(`Unknown artifact type, can't build box: ${input.builderId}`);
  }
  return name;
}

/** Vagrant's name for the host's architecture (what `{{.Architecture}}` is when unset). */
function hostArchitecture(): string {
  return ({ x86_64: "amd64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch] ??
    Deno.build.arch;
}

interface Plan {
  provider: string;
  config: Record<string, unknown>;
  data: Record<string, unknown>;
  target: string;
}

function plan(ctx: PostProcessContext, raw: Record<string, unknown>, input: Artifact): Plan {
  const provider = providerName(raw, input);
  const config = specificConfig(raw, provider);
  const data = {
    ArtifactId: input.id,
    BuildName: ctx.buildName,
    Provider: provider,
    Architecture: typeof config.architecture === "string" && config.architecture
      ? config.architecture
      : hostArchitecture(),
  };
  const target = ctx.render(String(config.output || DEFAULT_BOX_OUTPUT), data);
  return { provider, config, data, target };
}

/** The box's path, or none when the artifact cannot make a box (postProcess says why). */
function plannedTarget(
  ctx: PostProcessContext,
  config: Record<string, unknown>,
  input: Artifact,
): string[] {
  try {
    return [plan(ctx, config, input).target];
  } catch {
    return [];
  }
}

/** Packer's frame around the provider's and the template's parts of the Vagrantfile. */
function boxVagrantfile(provider: string, custom: string): string {
  return "\n# The contents below were provided by the Packer Vagrant post-processor\n" +
    `${provider}\n\n` +
    "# The contents below (if any) are custom contents provided by the\n" +
    `# Packer template during image build.\n${custom}\n`;
}

/** metadata.json as Go's encoder writes it: keys sorted, one line. */
function metadataJson(metadata: Record<string, unknown>): Uint8Array {
  const sorted = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => a < b ? -1 : 1));
  return new TextEncoder().encode(JSON.stringify(sorted) + "\n");
}

async function makeBox(ctx: PostProcessContext, p: Plan, input: Artifact): Promise<void> {
  const { ui } = ctx;
  const provider = providerFor(p.provider);
  if (typeof provider === "string") throw new Error(provider);
  const entries = new Map<string, TarEntry>();
  for (const src of (p.config.include as string[] | undefined) ?? []) {
    ui.message(`Copying from include: ${src}`);
    const info = await Deno.stat(src).catch((err) => {
      throw new Error(`Error copying include file: ${src}: ${(err as Error).message}`);
    });
    if (!info.isFile) throw new Error(`Error copying include file: ${src}: not a regular file`);
    const name = src.split("/").pop()!;
    entries.set(name, { name, path: src });
  }
  const contents = provider.contents(input, ui);
  for (const [name, path] of contents.files) entries.set(name, { name, path });
  const metadata = { ...contents.metadata };
  if (typeof p.config.architecture === "string" && p.config.architecture) {
    metadata.architecture = p.config.architecture;
  }
  // An included metadata.json wins over the provider's, as in Packer.
  if (!entries.has("metadata.json")) {
    entries.set("metadata.json", { name: "metadata.json", bytes: metadataJson(metadata) });
  }
  let custom = "";
  const template = p.config.vagrantfile_template;
  if (typeof template === "string" && template) {
    ui.message(`Using custom Vagrantfile: ${template}`);
    const text = await Deno.readTextFile(template).catch((err) => {
      throw new Error(`Unable to read vagrantfile_template ${template}: ${err.message}`);
    });
    custom = ctx.render(text, p.data);
  }
  const vagrantfile = new TextEncoder().encode(boxVagrantfile(contents.vagrantfile, custom));
  entries.set("Vagrantfile", { name: "Vagrantfile", bytes: vagrantfile });
  // Packer walks its box directory: entries in byte order of their names.
  const ordered = [...entries.values()].sort((a, b) => a.name < b.name ? -1 : 1);
  for (const e of ordered) ui.message(`Compressing: ${e.name}`);
  await Deno.mkdir(dirname(p.target), { recursive: true, mode: 0o755 }).catch((err) => {
    throw new Error(`Unable to create dir for box ${p.target}: ${err.message}`);
  });
  const tar = tarStream(ordered, ctx.signal);
  const level = typeof p.config.compression_level === "number" ? p.config.compression_level : 6;
  const bytes = level === 0 ? tar : await gzipped(tar, level === -1 ? 6 : level);
  await writeAtomically(p.target, partialOf(p.target, ctx), bytes);
}

/** The encoder loads on first use, so validating a template stays light. */
async function gzipped(
  tar: AsyncIterable<Uint8Array>,
  level: number,
): Promise<AsyncIterable<Uint8Array>> {
  return (await import("./gzip_stream.ts")).gzipStream(tar, level);
}

function checkVagrant(
  config: Record<string, unknown>,
  report: (key: string, message: string) => void,
): void {
  checkBoxOptions(config, "", report);
  const override = config.provider_override;
  if (typeof override === "string" && override && !KNOWN_PROVIDERS.includes(override)) {
    report(
      "provider_override",
      `The given provider_override ${override} is not valid. Please choose from one of ${
        KNOWN_PROVIDERS.join(", ")
      }`,
    );
  }
  const overrides = config.override;
  if (overrides === undefined || overrides === null) return;
  if (typeof overrides !== "object" || Array.isArray(overrides)) {
    report("override", "expected an object of provider name → options");
    return;
  }
  for (const [provider, options] of Object.entries(overrides)) {
    const path = childPath("override", provider);
    if (!options || typeof options !== "object" || Array.isArray(options)) {
      report(path, `expected an object of options for the ${provider} provider`);
      continue;
    }
    const decoded = decodeConfig(
      options as Record<string, unknown>,
      overrideSchema,
      "",
      (p, message) => report(p ? `${path}.${p}` : path, message),
    );
    checkBoxOptions(decoded, `${path}.`, report);
  }
}

/** Checks Packer makes (or, for the level, makes only when the build runs) on box options. */
function checkBoxOptions(
  config: Record<string, unknown>,
  prefix: string,
  report: (key: string, message: string) => void,
): void {
  const level = config.compression_level;
  if (typeof level === "number" && (level < -1 || level > 9)) {
    report(`${prefix}compression_level`, BAD_LEVEL);
  }
  const template = config.vagrantfile_template;
  if (typeof template === "string" && template && config.vagrantfile_template_generated !== true) {
    try {
      Deno.statSync(template);
    } catch {
      report(`${prefix}vagrantfile_template`, `vagrantfile_template '${template}' does not exist`);
    }
  }
}

/** The vagrant post-processor plugin. */
export const vagrantPostProcessor: PostProcessorPlugin = {
  type: "vagrant",
  schema: {
    pluginType: "mitchellh.post-processor.vagrant",
    fields: {
      ...boxFields,
      output: { ...boxFields.output, default: DEFAULT_BOX_OUTPUT },
      compression_level: { ...boxFields.compression_level, default: 6 },
      provider_override: {
        type: "string",
        doc: `provider instead of the artifact's (${KNOWN_PROVIDERS.join(", ")})`,
      },
      override: { type: "any", doc: 'options by provider name, e.g. {"libvirt": {...}}' },
    },
    check: checkVagrant,
  },
  outputs: plannedTarget,
  scratch(ctx, config, input) {
    return plannedTarget(ctx, config, input).map((target) => partialOf(target, ctx));
  },
  async postProcess(ctx, config, input) {
    const p = plan(ctx, config, input);
    const provider = providerFor(p.provider);
    if (typeof provider === "string") throw new Error(provider);
    ctx.ui.say(`Creating Vagrant box for '${p.provider}' provider`);
    await makeBox(ctx, p, input);
    return {
      artifact: {
        builderId: VAGRANT_BUILDER_ID,
        id: p.provider,
        files: [p.target],
        description: `'${p.provider}' provider box: ${p.target}`,
      },
      keep: provider.keepInput,
      // Packer insists: an AMI box without its AMI is useless, whatever keep_input_artifact says.
      forceOverride: true,
    };
  },
};
