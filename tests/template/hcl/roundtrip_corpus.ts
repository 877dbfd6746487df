/**
 * Which templates of the corpus the hcl2_upgrade round trip can build here:
 * the JSON front end must accept them, and every component must run on this
 * machine in seconds with no network, VM, sshd or WinRM. Everything else is
 * listed as skipped with the reason, so the test says what it does not cover.
 */
import { parseTemplate } from "../../../template/parse.ts";
import { prepareTemplate } from "../../../template/prepare.ts";
import { kilnRegistry } from "../../../registry.ts";
import { TemplateError } from "../../../template/types.ts";
import type { Template } from "../../../template/types.ts";
import { parseCommandArgs, TEMPLATE_INPUT_FLAGS, templateInputsFrom } from "../../../cli/args.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** A template the round trip builds, with the flags it needs. */
export interface RoundTripCase {
  /** Path relative to the repository root. */
  name: string;
  /** Absolute path. */
  file: string;
  /** Extra `build` flags (-var, -var-file, -only), with var-file paths relative to the template. */
  args: string[];
}

/** A template the round trip leaves out, and why. */
export interface Skipped {
  name: string;
  reason: string;
}

const BUILDERS = new Set(["null", "file"]);
const PROVISIONERS = new Set(["shell-local", "file"]);
const POST_PROCESSORS = new Set(["compress", "checksum", "manifest", "shell-local", "artifice"]);
/**
 * Fixture trees that hold no templates (recorded oracle cases, qemu option cases need qemu;
 * `kiln fix` inputs, mostly broken on purpose, and Packer's recorded validate answers).
 */
const NOT_TEMPLATES = [
  /\.kiln\.json$/,
  /\/hcl\/oracle\//,
  /\/templates\/vars\//,
  /\/floppy\//,
  /\/fixtures\/fix\//,
  /\/fixtures\/realworld\//,
];

/** Every JSON/YAML file under examples/ and tests/fixtures/ (relative paths, sorted). */
export async function corpusFiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isFile && /\.(json|ya?ml)$/.test(e.name)) out.push(p);
    }
  };
  await walk("examples");
  await walk("tests/fixtures");
  return out.filter((p) => !NOT_TEMPLATES.some((re) => re.test(p))).sort();
}

async function argsOf(file: string): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(file.replace(/\.(json|ya?ml)$/, ".args"));
    return text.split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

/** Why this template cannot be built quickly and offline here, or undefined when it can. */
export function unbuildable(t: Template, text: string): string | undefined {
  for (const b of t.builders) {
    if (!BUILDERS.has(b.type)) return `builder "${b.type}" needs a VM, a cloud or a host`;
    if (b.type === "null" && b.config.communicator !== "none") {
      return `null builder "${b.name}" connects over ${
        b.config.communicator ?? "ssh"
      } (needs sshd/WinRM)`;
    }
  }
  const provs = [
    ...t.provisioners,
    ...(t.errorCleanupProvisioner ? [t.errorCleanupProvisioner] : []),
  ];
  for (const p of provs) {
    if (p.type === "breakpoint" && p.config.disable === true) continue;
    if (p.type === "breakpoint") return "an enabled breakpoint waits for a terminal";
    if (!PROVISIONERS.has(p.type)) return `provisioner "${p.type}" needs a remote machine`;
  }
  for (const pp of t.postProcessors.flat()) {
    if (!POST_PROCESSORS.has(pp.type)) return `post-processor "${pp.type}" is not local`;
  }
  const shared = t.postProcessors.flat().find((pp) =>
    typeof pp.config.output === "string" && !pp.config.output.includes("{{")
  );
  if (t.builders.length > 1 && shared) {
    return `its builds all write ${shared.config.output}: the result depends on their order, ` +
      "and the upgrade orders sources by type and name, as Packer does";
  }
  const sleep = /sleep\s+(\d+)/.exec(text);
  if (sleep && Number(sleep[1]) >= 3) return `sleeps ${sleep[1]}s`;
  return undefined;
}

/**
 * Why the template's inputs mean something else in HCL2 (Packer 1.6.6 agrees
 * with kiln on each: the JSON build succeeds, the HCL2 one is refused), or
 * undefined. These are the language's rules, not the upgrade's output.
 */
async function hclMeaningDiffers(
  t: Template,
  args: string[],
  dir: string,
): Promise<string | undefined> {
  for (const [i, a] of args.entries()) {
    const set = a === "-var" ? args[i + 1] : a.startsWith("-var=") ? a.slice(5) : undefined;
    const v = set?.slice(0, set.indexOf("="));
    if (v !== undefined && !Object.hasOwn(t.variables, v)) {
      return `-var sets "${v}", which the template does not declare: JSON ignores it, HCL2 refuses it`;
    }
    const m = /^-var-file=(.*)$/.exec(a);
    if (!m) continue;
    let text: string;
    try {
      text = await Deno.readTextFile(dir + m[1]);
    } catch {
      continue; // A missing var-file: both front ends refuse it.
    }
    const keys = [...text.matchAll(/"([^"]+)"\s*:/g)].map((k) => k[1]);
    if (new Set(keys).size !== keys.length) {
      return `var-file ${m[1]} sets a variable twice: JSON takes the last, HCL2 refuses it`;
    }
    if (Object.values(JSON.parse(text)).includes(null)) {
      return `var-file ${m[1]} sets a variable to null: JSON reads "", HCL2 refuses it in a string`;
    }
  }
  return undefined;
}

/**
 * Splits the corpus: `accepted` are the templates the JSON front end prepares
 * (with their flags), `cases` those of them the round trip can also build
 * here; `skipped` says why each other one is not built.
 */
export async function roundTripCorpus(): Promise<
  { cases: RoundTripCase[]; accepted: RoundTripCase[]; skipped: Skipped[] }
> {
  const cases: RoundTripCase[] = [];
  const accepted: RoundTripCase[] = [];
  const skipped: Skipped[] = [];
  Deno.env.set("KILN_FIXTURE_ENV", "from-env");
  for (const name of await corpusFiles()) {
    const file = ROOT + name;
    const text = await Deno.readTextFile(file);
    let template: Template;
    try {
      template = await parseTemplate(file);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      skipped.push({ name, reason: `the JSON front end rejects it: ${err.issues[0]?.message}` });
      continue;
    }
    const args = await argsOf(file);
    // A required variable the fixture leaves unset gets a value, so the template still builds.
    for (const [v, def] of Object.entries(template.variables)) {
      const given = args.some((a) => a.startsWith(`${v}=`)) ||
        args.some((a) => a.startsWith("-var-file"));
      if (def.default === null && !given) args.push("-var", `${v}=given-by-roundtrip`);
    }
    const dir = file.slice(0, file.lastIndexOf("/") + 1);
    const apart = await hclMeaningDiffers(template, args, dir);
    if (apart) {
      skipped.push({ name, reason: apart });
      continue;
    }
    try {
      const absArgs = args.map((a) => a.replace("vars/", `${dir}vars/`));
      await prepareTemplate(
        file,
        templateInputsFrom(parseCommandArgs(absArgs, TEMPLATE_INPUT_FLAGS)),
        { registry: kilnRegistry },
      );
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      skipped.push({ name, reason: `the JSON front end rejects it: ${err.issues[0]?.message}` });
      continue;
    }
    accepted.push({ name, file, args });
    const why = unbuildable(template, text);
    if (why) {
      skipped.push({ name, reason: why });
      continue;
    }
    cases.push({ name, file, args });
  }
  return { cases, accepted, skipped };
}

/** -only/-except name JSON builds; the HCL2 builds are `type.name`. */
export function hclArgs(args: string[], names: Map<string, string>): string[] {
  return args.map((a) => {
    const m = /^-(only|except)=(.*)$/.exec(a);
    if (!m) return a;
    const picked = m[2].split(",").flatMap((p) => {
      const re = new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`);
      return [...names].filter(([, json]) => re.test(json)).map(([hcl]) => hcl);
    });
    return `-${m[1]}=${picked.length ? picked.join(",") : "nothing-matches"}`;
  });
}
