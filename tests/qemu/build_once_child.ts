/**
 * A process asking the guest cache for one entry (guest_cache_test.ts runs
 * several at once). Args: the behaviour of its build — `ok`, `fail`, or
 * `hang` (never finishes, to be killed). Prints `{dir, fromCache}` as JSON.
 */
import { buildOnce } from "../support/guests/cache.ts";

const behaviour = Deno.args[0] ?? "ok";
const root = Deno.env.get("KILN_TEST_CACHE")!;
const result = await buildOnce("probe", { recipe: 1 }, async (scratch) => {
  await Deno.writeTextFile(`${root}/builders.log`, `${Deno.pid}\n`, { append: true });
  await Deno.writeTextFile(`${scratch}/half`, "written first");
  if (behaviour === "hang") await new Promise((r) => setTimeout(r, 3_600_000));
  await new Promise((r) => setTimeout(r, 1_000));
  if (behaviour === "fail") throw new Error("the build broke");
  await Deno.writeTextFile(`${scratch}/whole`, "written last");
});
console.log(JSON.stringify(result));
