/**
 * kiln's floors, lowest first: the template layer; the runtime beside the
 * communicators and hypervisors; the steps; the components (builders,
 * provisioners, post-processors); the entry points. A module may import its
 * own floor or a lower one, never a higher one (type-only imports too): the
 * lower floors reach the components only through what the top hands down
 * (`components.ts`). This test names every import that goes up.
 */
import { assert } from "./template/assert.ts";

/** Floor of each top-level directory or file of the repository (0 is lowest). */
const FLOORS: Record<string, number> = {
  "template": 0,
  "version.ts": 0,
  // Data files (the demo's templates).
  "examples": 0,
  "runtime": 1,
  "communicators": 1,
  "hypervisors": 1,
  // The demo guests: host tools over runtime/fs.ts, used by the CLI's demo.
  "guests": 1,
  "steps": 2,
  // The shared run store: an adapter over the runtime (S3), loaded by the CLI.
  "store": 2,
  "builders": 3,
  "provisioners": 3,
  "post_processors": 3,
  "datasources": 3,
  "components.ts": 4,
  "registry.ts": 4,
  "cli": 4,
  "cli.ts": 4,
  "mod.ts": 4,
};

interface InfoDependency {
  specifier: string;
  code?: { specifier: string; span?: { start: { line: number } } };
  type?: { specifier: string; span?: { start: { line: number } } };
}

interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

const root = new URL("../", import.meta.url).href;

async function moduleGraph(entry: string): Promise<InfoModule[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, root).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.code === 0, new TextDecoder().decode(out.stderr));
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] }).modules;
}

/** The repository-relative path of a local module, or undefined for npm:, node:, ... */
function local(specifier: string): string | undefined {
  return specifier.startsWith(root) ? specifier.slice(root.length) : undefined;
}

function floorOf(path: string): number | undefined {
  return FLOORS[path.split("/")[0]];
}

Deno.test("no module imports from a floor above its own", async () => {
  const modules = [...await moduleGraph("cli.ts"), ...await moduleGraph("mod.ts")];
  const upward = new Set<string>();
  const unplaced = new Set<string>();
  for (const m of modules) {
    const from = local(m.specifier);
    if (!from) continue;
    const fromFloor = floorOf(from);
    if (fromFloor === undefined) unplaced.add(from);
    for (const dep of m.dependencies ?? []) {
      for (const target of [dep.code, dep.type]) {
        const to = target && local(target.specifier);
        if (!to) continue;
        const toFloor = floorOf(to);
        if (toFloor === undefined) unplaced.add(to);
        if (fromFloor === undefined || toFloor === undefined || toFloor <= fromFloor) continue;
        const line = target!.span ? `:${target!.span.start.line + 1}` : "";
        upward.add(`${from}${line} imports ${to} (floor ${fromFloor} → ${toFloor})`);
      }
    }
  }
  assert(
    unplaced.size === 0,
    `modules outside every floor (give their directory one in FLOORS): ${
      [...unplaced].sort().join(", ")
    }`,
  );
  assert(upward.size === 0, `imports that go up a floor:\n  ${[...upward].sort().join("\n  ")}`);
});
