import assert from "node:assert/strict";
import { join } from "node:path";
import { artificePostProcessor } from "../../post_processors/artifice.ts";
import { compressPostProcessor } from "../../post_processors/compress.ts";
import { artifactOf, decode, fixture, postContext, withTempDir } from "./support.ts";

Deno.test("artifice and compress say what Packer 1.6.6 says (fixture)", async () => {
  await withTempDir(async (dir) => {
    const art = join(dir, "out", "nested", "dir", "art.txt");
    await Deno.mkdir(join(dir, "out", "nested", "dir"), { recursive: true });
    await Deno.writeTextFile(art, "hello packer\n");
    await Deno.writeTextFile(join(dir, "extra.txt"), "extra\n");
    const said: string[] = [];
    const run = async (
      type: "artifice" | "compress",
      raw: Record<string, unknown>,
      files: string[],
    ) => {
      const plugin = type === "artifice" ? artificePostProcessor : compressPostProcessor;
      const { ctx, ui } = postContext();
      try {
        return await plugin.postProcess(ctx, decode(plugin.schema, raw), artifactOf(files));
      } finally {
        said.push(...ui.says.map((line) => `${type}: ${line}`));
      }
    };
    const pick = { files: [art, join(dir, "extra.txt")] };
    await run("artifice", pick, [art]);
    for (const output of ["archives/art.tar", "archives/art.zip", "archives/multi.gz"]) {
      const picked = await run("artifice", pick, [art]);
      await run("compress", { output: join(dir, output) }, picked!.artifact.files).catch(() => {});
    }
    const ours = said.filter((l) => !l.startsWith("compress: Using ")).map((l) =>
      l.replaceAll(`${dir}/`, "")
    );
    assert.deepEqual(ours, (await fixture("artifacts_ui.txt")).trimEnd().split("\n"));
  });
});
