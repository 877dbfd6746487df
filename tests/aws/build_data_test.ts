/**
 * The build template data (BuildRegion, SourceAMI, SourceAMIName,
 * SourceAMIOwner, SourceAMIOwnerName, SourceAMICreationDate, SourceAMITags)
 * reaches ami_description, tags, run_tags and — as `build` data — the
 * provisioners, with SourceAMIOwnerName the owner's alias.
 */
import assert from "node:assert/strict";
import { AMAZON_OWNER_ID } from "../support/ec2/mod.ts";
import { amazonTemplate, awsWorkspace, kiln, writeTemplate } from "./support.ts";

const SOURCE_NAME = "amzn-ami-hvm-2018.03.0.20231218.0-x86_64-s3";

Deno.test("amazon-instance: build template data reaches description, tags, run_tags and provisioners", async () => {
  const ws = await awsWorkspace();
  try {
    const source = [...ws.emulator.emulator.images.values()].find((i) =>
      i.name === SOURCE_NAME && i.region === "us-east-1"
    )!;
    ws.emulator.emulator.applyTags(source.imageId, [
      { key: "Team", value: "infra" },
      { key: "Name", value: "base image" },
    ]);
    const out = `${ws.dir}/build-data.txt`;
    const fields = [
      "BuildRegion",
      "SourceAMI",
      "SourceAMIName",
      "SourceAMIOwner",
      "SourceAMIOwnerName",
      "SourceAMICreationDate",
      "SourceAMITags",
    ];
    const template = amazonTemplate(ws, {
      source_ami_filter: {
        filters: { name: "amzn-ami-hvm-*", "root-device-type": "instance-store" },
        owners: ["amazon"],
        most_recent: true,
      },
      ami_description:
        "{{.SourceAMIName}} of {{.SourceAMIOwnerName}} ({{.SourceAMIOwner}}), team {{.SourceAMITags.Team}}",
      tags: {
        Base: "{{.SourceAMI}}",
        Region: "{{.BuildRegion}}",
        Created: "{{.SourceAMICreationDate}}",
        Owner: "{{.SourceAMIOwnerName}}",
        Team: "{{.SourceAMITags.Team}}",
      },
      run_tags: { Base: "{{.SourceAMI}}" },
    }, [{
      type: "shell-local",
      inline: fields.map((f) => `printf '%s\\n' '${f}={{build \`${f}\`}}' >> '${out}'`),
    }]);
    const result = await kiln(ws, ["build", await writeTemplate(ws, template)]);
    assert.equal(result.code, 0, result.stdout + result.stderr);

    const expected: Record<string, string> = {
      BuildRegion: "us-east-1",
      SourceAMI: source.imageId,
      SourceAMIName: SOURCE_NAME,
      SourceAMIOwner: AMAZON_OWNER_ID,
      SourceAMIOwnerName: "amazon",
      SourceAMICreationDate: source.creationDate,
      SourceAMITags: JSON.stringify({ Name: "base image", Team: "infra" }),
    };
    const seen = Object.fromEntries(
      (await Deno.readTextFile(out)).trim().split("\n").map((l) => {
        const at = l.indexOf("=");
        return [l.slice(0, at), l.slice(at + 1)];
      }),
    );
    assert.deepEqual(seen, expected, "provisioners see the build data");

    const ledger = ws.emulator.ledger();
    assert.equal(ledger.images.length, 1);
    const ami = ledger.images[0];
    assert.deepEqual(
      { ...ami.tags },
      {
        Base: source.imageId,
        Region: "us-east-1",
        Created: source.creationDate,
        Owner: "amazon",
        Team: "infra",
      },
    );
    assert.equal(
      ws.emulator.emulator.images.get(ami.imageId)?.description,
      `${SOURCE_NAME} of amazon (${AMAZON_OWNER_ID}), team infra`,
    );
    const launched = ws.emulator.requests().find((r) => r.action === "RunInstances");
    assert.ok(launched, "RunInstances was called");
    assert.ok(
      Object.values(launched.params ?? {}).includes(source.imageId),
      "run_tags rendered with the build data",
    );
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance: SourceAMIOwnerName is empty when the owner has no alias, as in Packer", async () => {
  const ws = await awsWorkspace();
  try {
    const out = `${ws.dir}/owner.txt`;
    const template = amazonTemplate(ws, { tags: { Owner: "[{{.SourceAMIOwnerName}}]" } }, [{
      type: "shell-local",
      inline: [
        `printf '%s' '[{{build \`SourceAMIOwnerName\`}}] {{build \`SourceAMITags\`}}' > '${out}'`,
      ],
    }]);
    const result = await kiln(ws, ["build", await writeTemplate(ws, template)]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(await Deno.readTextFile(out), "[] {}");
    assert.equal(ws.emulator.ledger().images[0]?.tags.Owner, "[]");
  } finally {
    await ws.close();
  }
});
