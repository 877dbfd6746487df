/**
 * `kiln runs [--json]` lists runs (id, template, status, started, duration);
 * `kiln runs show <run-id> [--json]` shows one run's timeline: builds, steps
 * with durations, provisioners, resources and their state, artifacts;
 * `kiln runs show <run-id> --html [FILE.html]` writes it as a timeline page.
 */
import { runStoreBackend } from "../runtime/replica.ts";
import { ArgsError, isHelpRequest, parseCommandArgs } from "./args.ts";
import { listRuns, loadRun, runStatus } from "../runtime/run_store.ts";
import { kilnHome } from "../runtime/paths.ts";
import { shortDuration } from "../runtime/duration.ts";
import { formatCliError } from "../runtime/errors.ts";
import type { BuildState, RunState } from "../runtime/fold.ts";
import { displayState } from "../runtime/secret_refs.ts";
import { loadTimeline } from "../runtime/timeline.ts";
import { runPage } from "./runs_html.ts";
import { resolve } from "node:path";

const USAGE = `Usage: kiln runs [--json]
       kiln runs show <run-id> [--json]
       kiln runs show <run-id> --html [FILE.html]

  Lists the runs recorded under KILN_HOME (default ./.kiln), or shows one.
  --html writes the run as a self-contained timeline page (builds as lanes,
  steps as bars, resources, retries, failures, resumes) to FILE.html, by
  default ./<run-id>.html, and prints its path.`;

/** Runs `kiln runs`; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  if (isHelpRequest(args)) {
    console.log(USAGE);
    return 0;
  }
  try {
    const { html, rest: flags } = takeHtmlFlag(args);
    const parsed = parseCommandArgs(flags, { json: { type: "boolean" } });
    const json = parsed.values.json === true;
    const [sub, id, ...rest] = parsed.positionals;
    if (html !== undefined && json) throw new ArgsError("--html and --json: choose one");
    if (html !== undefined && !(sub === "show" && id && rest.length === 0)) {
      throw new ArgsError("--html goes with `kiln runs show <run-id>`");
    }
    if (sub === undefined) return await list(json);
    if (sub === "show" && id && rest.length === 0) {
      return html === undefined ? await show(id, json) : await writeHtml(id, html);
    }
    console.error(USAGE);
    return 1;
  } catch (err) {
    console.error(formatCliError("runs", err));
    return 1;
  }
}

/**
 * `--html` takes an optional file: `--html=FILE` or `--html FILE` when FILE
 * ends in .html/.htm (anything else after it is the run id or another
 * argument, so `runs show --html RUN` still reads). "" means the default.
 */
function takeHtmlFlag(args: string[]): { html?: string; rest: string[] } {
  const rest: string[] = [];
  let html: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const m = /^--?html(?:=([\s\S]*))?$/.exec(args[i]);
    if (!m) {
      rest.push(args[i]);
      continue;
    }
    if (html !== undefined) throw new ArgsError("--html given twice");
    if (m[1] !== undefined) {
      if (m[1] === "") throw new ArgsError("--html=: the file name is empty");
      html = m[1];
    } else if (/\.html?$/i.test(args[i + 1] ?? "")) {
      html = args[++i];
    } else {
      html = "";
    }
  }
  return { html, rest };
}

async function writeHtml(id: string, file: string): Promise<number> {
  const home = kilnHome();
  let status = "";
  const { timeline, sealed, torn } = await loadTimeline(id, home, async (state) => {
    status = await runStatus(state, home);
    return status === "running";
  });
  const path = resolve(file === "" ? `${id}.html` : file);
  try {
    await Deno.writeTextFile(path, runPage(timeline, { status, sealed, torn: torn }));
  } catch (err) {
    throw new Error(`cannot write ${path}: ${err instanceof Error ? err.message : err}`);
  }
  console.log(path);
  return 0;
}

async function list(json: boolean): Promise<number> {
  const runs = await listRuns(kilnHome());
  if (json) {
    console.log(JSON.stringify(runs, null, 2));
    return 0;
  }
  if (runs.length === 0) {
    const store = runStoreBackend();
    console.log(store ? `No runs in the store ${store.url}.` : `No runs under ${kilnHome()}.`);
    return 0;
  }
  const rows = runs.map((r) => [
    r.id,
    r.status,
    r.startedAt?.replace(/\.\d+Z$/, "Z") ?? "-",
    r.durationMs === undefined ? "-" : shortDuration(r.durationMs),
    r.template ?? (r.problem ? `(${r.problem})` : "-"),
  ]);
  table(["RUN", "STATUS", "STARTED", "DURATION", "TEMPLATE"], rows);
  return 0;
}

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  console.log([fmt(head), ...rows.map(fmt)].join("\n"));
}

function span(from?: string, to?: string): string {
  if (!from || !to) return "";
  return shortDuration(Date.parse(to) - Date.parse(from));
}

async function show(id: string, json: boolean): Promise<number> {
  const home = kilnHome();
  const loaded = await loadRun(id, home);
  const contents = loaded.contents;
  // Secrets inside state are references in the log; people see <sensitive>.
  const state = displayState(loaded.state);
  const status = await runStatus(state, home);
  if (json) {
    console.log(
      JSON.stringify(
        {
          ...state,
          status,
          torn: contents.torn,
          sealed: contents.seal !== undefined,
          unsealed: contents.unsealed,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const lines: string[] = [
    `Run ${state.runId}: ${status}`,
    `  template:  ${state.template ?? "-"}`,
    `  started:   ${state.startedAt ?? "-"}` +
    (state.finishedAt
      ? `  finished: ${state.finishedAt} (${span(state.startedAt, state.finishedAt)})`
      : ""),
    `  seal:      ${
      contents.seal
        ? `verified at event ${contents.seal.point.seq}` +
          (contents.unsealed ? ` (${contents.unsealed} later event(s) unsealed)` : "")
        : "NONE on this machine: the log cannot be trusted (see kiln replay)"
    }`,
    `  events:    ${contents.last.seq}${
      contents.torn ? ` (torn last line ${contents.torn.line} ignored)` : ""
    }` +
    (state.resumes ? `, resumed ${state.resumes}x` : "") +
    (state.cleanups ? `, cleaned up ${state.cleanups}x` : ""),
  ];
  for (const b of Object.values(state.builds)) lines.push("", ...showBuild(b, state));
  console.log(lines.join("\n"));
  return 0;
}

function showBuild(b: BuildState, _run: RunState): string[] {
  const out = [
    `Build '${b.name}' (${b.type ?? "?"}): ${b.status}` +
    (b.finishedAt ? ` after ${span(b.startedAt, b.finishedAt)}` : "") +
    (b.error ? ` — ${b.error.split("\n")[0]}` : ""),
    "  steps:",
  ];
  for (const s of Object.values(b.steps)) {
    const took = span(s.startedAt, s.endedAt);
    out.push(
      `    ${s.status.padEnd(11)} ${s.id}${took ? `  ${took}` : ""}` +
        (s.attempts > 1 ? `  (${s.attempts} attempts)` : "") + (s.error ? `  — ${s.error}` : ""),
    );
  }
  if (b.provisionersDone.length > 0) {
    out.push(`  provisioners done: ${b.provisionersDone.map((i) => `#${i}`).join(", ")}`);
  }
  if (b.resources.length > 0) {
    out.push("  resources:");
    for (const e of b.resources) {
      const st = e.deletedAt
        ? "deleted"
        : e.released
        ? "released"
        : e.resource.temporary
        ? "live (temporary)"
        : "live";
      out.push(
        `    ${st.padEnd(16)} ${e.resource.kind} ${e.resource.id}` +
          (e.released ? ` — left alone: ${e.released.reason}` : ""),
      );
    }
  }
  if (b.artifacts.length > 0) {
    out.push("  artifacts:");
    for (const a of b.artifacts) {
      out.push(`    ${a.description}${a.files.length ? ` [${a.files.join(", ")}]` : ""}`);
    }
  }
  return out;
}
