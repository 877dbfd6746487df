/**
 * Builds one template with kiln in a scratch copy and reduces the result to
 * what must not change when the template is upgraded to HCL2: exit status,
 * the output a user reads, the files produced, and the shape of the event
 * log. Run ids, temp paths, durations, times and uuids are normalised.
 */
import { createHash } from "node:crypto";

const ROOT = new URL("../../../", import.meta.url).pathname;
const CLI = `${ROOT}cli.ts`;

/** What one build left behind, normalised for comparison. */
export interface BuildOutcome {
  exit: number;
  /** Lines of one build (by its name) or of the run (key ""), in order. */
  output: Record<string, string[]>;
  /** Files created or changed, relative to the build directory → digest of normalised contents. */
  artifacts: Record<string, string>;
  /** `[type, build, step]` of each event, grouped by build ("" for run-level events). */
  events: Record<string, string[]>;
}

/**
 * `names` maps a build's name as kiln prints it to the name the comparison
 * uses, so JSON's `site` and HCL2's `file.site` meet.
 */
export interface RunSpec {
  dir: string;
  template: string;
  args: string[];
  names: Map<string, string>;
  /** Extra strings to replace before comparing (e.g. the scratch dir). */
  replace?: [string | RegExp, string][];
}

const RUN_ID = /\d{8}T\d{6}Z-[0-9a-f]{6}/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const DURATION =
  /\b\d+(?:\.\d+)? (?:hours?|minutes?|seconds?|milliseconds?|microseconds?|nanoseconds?)(?: \d+(?:\.\d+)? (?:hours?|minutes?|seconds?|milliseconds?|microseconds?|nanoseconds?))*/g;
const SCRIPT = /packer-shell\d+/g;
/** Unix times (timestamp function, manifest build_time) from this decade. */
const UNIX_TIME = /\b1[789]\d{8}\b/g;
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;

/** Replaces what differs from run to run. */
export function normalise(text: string, spec: RunSpec): string {
  let out = text.replaceAll(spec.dir, "<DIR>");
  for (const [from, to] of spec.replace ?? []) out = out.replaceAll(from, to);
  return out.replace(RUN_ID, "<RUN>").replace(UUID, "<UUID>").replace(DURATION, "<DURATION>")
    .replace(SCRIPT, "packer-shell<N>").replace(ISO_TIME, "<TIME>").replace(UNIX_TIME, "<UNIX>");
}

/** Splits output lines by the build they are prefixed with, renaming builds per `names`. */
function groupLines(lines: string[], spec: RunSpec): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const push = (k: string, l: string) => (out[k] ??= []).push(l);
  const byLength = [...spec.names.keys()].sort((a, b) => b.length - a.length);
  for (const raw of lines) {
    const line = normalise(raw, spec);
    let placed = false;
    for (const name of byLength) {
      const to = spec.names.get(name)!;
      for (const lead of ["==> ", "    ", "--> ", ""]) {
        for (const tail of [": ", " ("]) {
          if (line.startsWith(lead + name + tail)) {
            push(to, lead + to + line.slice(lead.length + name.length));
            placed = true;
            break;
          }
        }
        if (placed) break;
      }
      if (!placed && line.startsWith(`Build '${name}' `)) {
        push(to, `Build '${to}' ` + line.slice(`Build '${name}' `.length));
        placed = true;
      }
      if (placed) break;
    }
    if (!placed) push("", line);
  }
  return out;
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (p === ".kiln") continue;
      if (e.isDirectory) await walk(p);
      else if (e.isFile) {
        const bytes = await Deno.readFile(`${dir}/${p}`);
        out.set(p, createHash("sha256").update(bytes).digest("hex"));
      } else if (e.isSymlink) out.set(p, `-> ${await Deno.readLink(`${dir}/${p}`)}`);
    }
  };
  await walk("");
  return out;
}

/** The entries of a tar archive (names and contents), so archive times do not matter. */
async function archiveDigest(file: string): Promise<string | undefined> {
  const listing = await new Deno.Command("tar", {
    args: ["-tvf", file],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  if (!listing.success) return undefined;
  const names = new TextDecoder().decode(listing.stdout).split("\n").filter(Boolean)
    .map((l) => l.split(/\s+/).slice(5).join(" ").replace(/^\S+ \S+ /, ""));
  const data = await new Deno.Command("tar", {
    args: ["-xOf", file],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  return `tar ${names.join(",")} ${createHash("sha256").update(data.stdout).digest("hex")}`;
}

async function artifactDigest(path: string, spec: RunSpec): Promise<string> {
  const bytes = await Deno.readFile(path);
  if (/\.(tar|tgz|tar\.\w+)$/.test(path)) {
    const tar = await archiveDigest(path);
    if (tar) return tar;
  }
  if (/\.(gz|bgzf)$/.test(path)) return `gzip ${bytes.length > 0}`;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return createHash("sha256").update(bytes).digest("hex");
  }
  // Checksums of archives change with archive times; keep only their shape.
  text = text.replace(/\b[0-9a-f]{32,128}\b/g, "<HEX>");
  return normalise(text, spec);
}

async function eventShape(dir: string, spec: RunSpec): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  let runs: string[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/.kiln/runs`)) if (e.isDirectory) runs.push(e.name);
  } catch {
    return out;
  }
  runs = runs.sort();
  for (const run of runs) {
    let text = "";
    try {
      text = await Deno.readTextFile(`${dir}/.kiln/runs/${run}/events.jsonl`);
    } catch {
      continue;
    }
    for (const line of text.split("\n").filter(Boolean)) {
      const r = JSON.parse(line);
      const build = r.build === null ? "" : spec.names.get(r.build) ?? r.build;
      (out[build] ??= []).push(`${r.type} ${build} ${r.step ?? ""}`);
    }
  }
  return out;
}

/** Runs `kiln build ARGS TEMPLATE` in `spec.dir` and reduces what it did. */
export async function buildOutcome(
  spec: RunSpec,
  env: Record<string, string>,
): Promise<BuildOutcome> {
  const before = await snapshot(spec.dir);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, "build", ...spec.args, spec.template],
    cwd: spec.dir,
    env: { ...env, KILN_HOME: `${spec.dir}/.kiln`, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const r = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  const lines = [...dec.decode(r.stdout).split("\n"), ...dec.decode(r.stderr).split("\n")]
    .filter((l) => l.trim() !== "");
  const after = await snapshot(spec.dir);
  const artifacts: Record<string, string> = {};
  for (const [p, digest] of after) {
    if (before.get(p) === digest || p === spec.template) continue;
    artifacts[normalise(p, spec)] = await artifactDigest(`${spec.dir}/${p}`, spec);
  }
  return {
    exit: r.code,
    output: groupLines(lines, spec),
    artifacts,
    events: await eventShape(spec.dir, spec),
  };
}
