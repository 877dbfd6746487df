/**
 * A child-process driver for the crash and signal tests:
 * `deno run -A fake_run.ts <run|resume|cleanup> <root> <run-id> [options-json]`.
 * Runs the fake template under `<root>/home` (honours KILN_CRASH_AT_SEQ).
 */
import { join } from "node:path";
import { resumeRun, runBuild } from "../../../runtime/run_build.ts";
import { cleanupRun } from "../../../runtime/cleanup.ts";
import { fakePlugins, fakeTemplate, type FakeTemplateOptions } from "./fakes.ts";
import { kilnComponents } from "../../../components.ts";

const [mode, root, runId, extra] = Deno.args;
const options: Partial<FakeTemplateOptions> = extra ? JSON.parse(extra) : {};
const prepared = fakeTemplate({ root, ...options });
const home = join(root, "home");
const common = { home, components: kilnComponents, plugins: fakePlugins, handleSignals: true };
if (mode === "run") {
  const r = await runBuild(prepared, { ...common, runId });
  Deno.exit(r.status === "succeeded" ? 0 : r.status === "cancelled" ? 130 : 1);
} else if (mode === "resume") {
  const r = await resumeRun(runId, prepared, common);
  Deno.exit(r.status === "succeeded" ? 0 : 1);
} else {
  const r = await cleanupRun(runId, {
    home,
    prepared,
    components: kilnComponents,
    plugins: fakePlugins,
  });
  Deno.exit(r.failed.length === 0 ? 0 : 1);
}
