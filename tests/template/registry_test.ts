/**
 * prepareTemplate knows components only through the registry it is handed:
 * a library caller's registry decides which types exist, what their
 * options are, and what the "unknown type" message lists.
 */
import { assert, assertEquals } from "./assert.ts";
import { prepareTemplate } from "../../template/prepare.ts";
import type {
  ComponentKind,
  ComponentRegistry,
  ComponentSchema,
  ProvisionerSchema,
} from "../../template/registry.ts";
import { TemplateError } from "../../template/types.ts";
import { withTempDir, writeFile } from "./helpers.ts";

function kind<T>(entries: Record<string, T | Error>): ComponentKind<T> {
  return {
    types: () => Object.keys(entries),
    load: (type) => {
      if (!Object.hasOwn(entries, type)) return undefined;
      const entry = entries[type];
      return entry instanceof Error ? Promise.reject(entry) : Promise.resolve(entry);
    },
  };
}

const registry: ComponentRegistry = {
  builders: kind<ComponentSchema>({
    "kiln-test": { schema: { fields: { size: { type: "int", default: 7 } } } },
    "connects": {
      schema: { fields: { communicator: { type: "string", default: "none" } } },
    },
    "broken": new Error("its module threw"),
  }),
  provisioners: kind<ProvisionerSchema>({
    "remote-only": { schema: { fields: { script: { type: "string" } } }, needsCommunicator: true },
  }),
  postProcessors: kind<ComponentSchema>({
    "stamp": { schema: { fields: { label: { type: "string" } } } },
  }),
};

async function issues(file: string): Promise<string[]> {
  try {
    await prepareTemplate(file, {}, { registry });
  } catch (err) {
    assert(err instanceof TemplateError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error("expected a TemplateError");
}

Deno.test("the handed-down registry supplies the types and their option schemas", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      builders: [{ type: "kiln-test" }, { type: "kiln-test", name: "big", size: "12" }],
      "post-processors": [{ type: "stamp", label: "{{build_name}}" }],
    });
    const prepared = await prepareTemplate(file, {}, { registry });
    assertEquals(prepared.builds.map((b) => [b.name, b.config.size]), [
      ["kiln-test", 7],
      ["big", 12],
    ]);
    assertEquals(prepared.builds[1].postProcessors[0][0].type, "stamp");
  });
});

Deno.test("types outside the registry are unknown, even kiln's own", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      builders: [{ type: "null", communicator: "none" }, { type: "broken" }],
      provisioners: [{ type: "shell-local", inline: ["true"] }],
    });
    assertEquals(await issues(file), [
      'builders[0].type: unknown builder type "null" (kiln knows: kiln-test, connects, broken)',
      'provisioners[0].type: unknown provisioner type "shell-local" (kiln knows: remote-only)',
      'builders[1]: builder "broken" failed to load: its module threw',
    ]);
  });
});

Deno.test("a provisioner's needsCommunicator comes from the registry", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      builders: [{ type: "connects" }],
      provisioners: [{ type: "remote-only", script: "x" }],
    });
    const [issue] = await issues(file);
    assert(/the remote-only provisioner needs a communicator/.test(issue), issue);
  });
});
