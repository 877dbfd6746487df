/**
 * `kiln validate` must start fast: nothing heavy (XState, ssh2, the AWS SDK,
 * even the YAML parser) may be reachable from cli/validate.ts through static
 * imports. Component modules load lazily through the registries.
 */
import { assert } from "./assert.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
}

Deno.test("cli/validate.ts statically imports no heavy module", async () => {
  const root = new URL("../../cli/validate.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.code === 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
  const byId = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const dep of byId.get(id)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) stack.push(dep.code.specifier);
    }
  }
  const heavy = [...seen].filter((s) =>
    /xstate|ssh2|aws-sdk|npm:|\/runtime\/(?!types\.ts|stdout_sink\.ts)/.test(s)
  );
  assert(heavy.length === 0, `statically reachable from cli/validate.ts: ${heavy.join(", ")}`);
  assert(seen.has(new URL("../../template/prepare.ts", import.meta.url).href));
});
