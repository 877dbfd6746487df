/**
 * The real-world coverage table (bench/realworld.ts) on the 110 public
 * templates: kiln is run live, Packer's verdicts come from its recorded
 * answers (tests/fixtures/realworld/packer_validate.json; Packer takes a
 * minute for them, `deno run -A bench/realworld.ts --record` re-records).
 * Every verdict must agree with Packer's, except where kiln lacks a
 * component type Packer has (kiln names only those types), Packer needs
 * the network this machine lacks to download a checksum file, or Packer
 * 1.6.6 predates an option of the current documents.
 */
import assert from "node:assert/strict";
import {
  componentTypes,
  formatCoverage,
  readIndex,
  realworldCoverage,
} from "../../bench/realworld.ts";
import { kilnRegistry } from "../../registry.ts";

Deno.test("real-world templates: kiln's verdicts agree with Packer 1.6.6's", async () => {
  const rows = await realworldCoverage({ packer: "recorded" });
  assert.equal(rows.length, 110);
  assert.equal(rows.length, readIndex().length);
  for (const r of rows) assert.ok(r.packer !== undefined, `${r.name}: no recorded Packer answer`);
  const differ = rows.filter((r) => r.agreement === "differs").map((r) =>
    `${r.name}: kiln ${r.kiln}s (${r.kilnSays}), Packer ${r.packer}s (${r.packerSays})`
  );
  assert.deepEqual(differ, []);
  for (const r of rows.filter((r) => r.agreement === "kiln lacks a component")) {
    assert.ok(r.missing.length > 0, `${r.name}: counted as lacking a component, lacks none`);
  }
  // Where kiln has every component, only the network or an option newer than
  // 1.6.6 (the documents win) may explain a difference.
  for (const r of rows.filter((r) => r.allComponents && r.agreement !== "same")) {
    assert.ok(
      ["Packer needs the network", "Packer predates an option"].includes(r.agreement),
      `${r.name}: ${r.agreement}`,
    );
  }
  const runnable = rows.filter((r) => r.runnable).length;
  assert.ok(runnable >= 55, `only ${runnable} templates runnable`);
  const same = rows.filter((r) => r.agreement === "same").length;
  assert.ok(same >= 81, `only ${same} same verdicts`);
  console.log(formatCoverage(rows).split("\n").slice(-6).join("\n"));
});

Deno.test("component types are read from builders, provisioners and post-processor chains", () => {
  const types = componentTypes({
    builders: [{ type: "qemu" }, { type: "docker" }, "bogus"],
    provisioners: [{ type: "sleep" }],
    "error-cleanup-provisioner": { type: "shell-local" },
    "post-processors": ["compress", [{ type: "vagrant" }, { type: "manifest" }], {
      type: "vagrant",
    }],
  });
  assert.deepEqual(types, {
    builder: ["qemu", "docker"],
    provisioner: ["sleep", "shell-local"],
    "post-processor": ["compress", "vagrant", "manifest"],
  });
  // The table follows kiln's registries: the sleep provisioner counts as kiln's.
  assert.ok(kilnRegistry.provisioners.types().includes("sleep"));
});
