import assert from "node:assert/strict";
import { prepareTemplate } from "../../template/mod.ts";
import { kilnRegistry } from "../../registry.ts";

const dir = new URL("../../examples/", import.meta.url);

Deno.test("every example template is valid", async () => {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
  assert.ok(names.includes("demo.json"));
  assert.ok(names.includes("demo_file.json"));
  for (const name of names) {
    const prepared = await prepareTemplate(new URL(name, dir).pathname, {}, {
      registry: kilnRegistry,
    });
    assert.ok(prepared.builds.length > 0, name);
  }
});
