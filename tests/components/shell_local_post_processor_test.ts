import assert from "node:assert/strict";
import { join } from "node:path";
import { shellLocalPostProcessor } from "../../post_processors/shell_local.ts";
import { artifactOf, decode, postContext, withTempDir } from "./support.ts";

Deno.test("shell-local post-processor runs once per artifact with PACKER_* set and passes it on", async () => {
  await withTempDir(async (dir) => {
    const { ctx, ui } = postContext({ buildName: "web", builderType: "file" });
    const input = artifactOf([join(dir, "a.img")]);
    const result = await shellLocalPostProcessor.postProcess(
      ctx,
      decode(shellLocalPostProcessor.schema, {
        environment_vars: ["MSG=it's done"],
        inline: [`echo "$PACKER_BUILD_NAME $PACKER_BUILDER_TYPE $MSG" >> ${dir}/log`, "echo ok"],
      }),
      input,
    );
    assert.equal(await Deno.readTextFile(join(dir, "log")), "web file it's done\n");
    assert.deepEqual(ui.messages, ["ok"]);
    assert.equal(result.artifact, input);
    assert.equal(result.keep, true);
    assert.equal(result.forceOverride, true, "keep_input_artifact cannot drop the input");
  });
});

Deno.test("shell-local post-processor fails the chain on a bad exit status", async () => {
  const { ctx } = postContext();
  await assert.rejects(
    () =>
      shellLocalPostProcessor.postProcess(
        ctx,
        decode(shellLocalPostProcessor.schema, { inline: ["exit 4"] }),
        artifactOf([]),
      ),
    /Script exited with non-zero exit status: 4\.Allowed exit codes are: \[0\]/,
  );
});
