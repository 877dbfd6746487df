/**
 * Post-processor outputs follow the builder artifact's rule: a real `kiln
 * build` killed (SIGKILL) after any event of post-processing, then `kiln
 * cleanup`, leaves none of the files this run wrote — compress's archive,
 * checksum's file, the manifest, the provisioner output artifice claimed —
 * while files that were there before the run survive. A finished build
 * keeps all of its outputs, through `cleanup` too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runKiln } from "../support/kiln_cli.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { runsRoot } from "../../runtime/paths.ts";

interface Logged {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

/** Present before every run; artifice names it, checksum and compress read it. */
const PREEXISTING = "notes.txt";

function template(out: string): Record<string, unknown> {
  return {
    builders: [{
      type: "file",
      name: "site",
      content: "<h1>hi</h1>\n",
      target: `${out}/index.html`,
    }],
    provisioners: [{ type: "shell-local", inline: [`printf 'about\\n' > ${out}/about.txt`] }],
    "post-processors": [[
      {
        type: "artifice",
        files: [`${out}/index.html`, `${out}/about.txt`, `${out}/${PREEXISTING}`],
      },
      { type: "compress", output: `${out}/{{.BuildName}}.tar.gz`, keep_input_artifact: true },
      { type: "checksum", checksum_types: ["sha256"], output: `${out}/{{.BuildName}}.sum` },
      { type: "manifest", output: `${out}/manifest.json` },
    ]],
  };
}

interface Lab {
  dir: string;
  out: string;
  home: string;
  file: string;
}

async function lab(dir: string): Promise<Lab> {
  const out = join(dir, "out");
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, PREEXISTING), "the user's\n");
  const file = join(dir, "t.json");
  await Deno.writeTextFile(file, JSON.stringify(template(out)));
  return { dir, out, home: join(dir, "home"), file };
}

async function build(l: Lab, env: Record<string, string> = {}) {
  return await runKiln(["build", l.file], { cwd: l.dir, home: l.home, env });
}

function onlyRunId(l: Lab): string {
  const ids = [...Deno.readDirSync(runsRoot(l.home))].map((e) => e.name);
  assert.equal(ids.length, 1, `one run in ${l.home}`);
  return ids[0];
}

async function events(l: Lab, runId: string): Promise<Logged[]> {
  const text = await Deno.readTextFile(join(runsRoot(l.home), runId, "events.jsonl"));
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

const ALL_OUTPUTS = [
  "about.txt",
  "index.html",
  "manifest.json",
  PREEXISTING,
  "site.sum",
  "site.tar.gz",
].sort();

Deno.test("a finished build keeps its post-processor outputs, through cleanup too", async () => {
  await withTempDir(async (dir) => {
    const l = await lab(dir);
    const ok = await build(l);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.deepEqual(listing(l.out), ALL_OUTPUTS);
    const runId = onlyRunId(l);
    const clean = await runKiln(["cleanup", runId], { cwd: dir, home: l.home });
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.deepEqual(listing(l.out), ALL_OUTPUTS);
  });
});

Deno.test("SIGKILL after each post-processing event, then cleanup: only the user's file is left", async () => {
  const { boundaries, claimed, finished } = await withTempDir(async (dir) => {
    const l = await lab(dir);
    assert.equal((await build(l)).code, 0);
    const all = await events(l, onlyRunId(l));
    const first = all.find((e) => e.type === "PostProcessorStarted")!.seq;
    return {
      // The last event is RunFinished: a kill after it interrupts nothing.
      boundaries: all.filter((e) => e.seq >= first && e.seq < all.length).map((e) => e.seq),
      // Until artifice has made about.txt part of the artifact, it is the
      // provisioner's side effect, which no ledger undoes.
      finished: all.find((e) => e.type === "BuildFinished")!.seq,
      claimed: all.find((e) =>
        e.type === "ResourceCreated" && e.data.id === join(l.out, "about.txt")
      )!
        .seq,
    };
  });
  assert.ok(boundaries.length > 6, `post-processing spans ${boundaries.length} events`);
  for (const seq of boundaries) {
    await withTempDir(async (dir) => {
      const l = await lab(dir);
      const killed = await build(l, { KILN_CRASH_AT_SEQ: String(seq) });
      assert.equal(killed.signal, "SIGKILL", `not killed after event ${seq}: ${killed.stderr}`);
      const runId = onlyRunId(l);
      const clean = await runKiln(["cleanup", runId], { cwd: dir, home: l.home });
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      // Once the build has finished, its outputs are its result.
      const expected = seq >= finished
        ? ALL_OUTPUTS
        : seq < claimed
        ? ["about.txt", PREEXISTING]
        : [PREEXISTING];
      assert.deepEqual(listing(l.out), expected, `left after a kill after event ${seq}`);
      assert.equal(await Deno.readTextFile(join(l.out, PREEXISTING)), "the user's\n");
    });
  }
});
