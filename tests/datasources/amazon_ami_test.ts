/**
 * The `amazon-ami` data source: the real @aws-sdk/client-ec2 against the
 * project's EC2 emulator on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { loadDataSource } from "../../datasources/mod.ts";
import {
  addImage,
  AMAZON_OWNER_ID,
  CANONICAL_OWNER_ID,
  type Ec2EmulatorHandle,
  startEc2Emulator,
} from "../support/ec2/mod.ts";
import { problems, run } from "./support.ts";

const UBUNTU = "ubuntu/images/hvm-instance/ubuntu-bionic-18.04-amd64-server-*";
const NEWEST_UBUNTU = "ubuntu/images/hvm-instance/ubuntu-bionic-18.04-amd64-server-20230531";
const AMI_ENV = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"];

/** Runs `body` with an emulator and without any AWS region or profile in the environment. */
async function withEmulator(body: (ec2: Ec2EmulatorHandle) => Promise<void>): Promise<void> {
  const saved = AMI_ENV.map((name) => [name, Deno.env.get(name)] as const);
  for (const name of AMI_ENV) Deno.env.delete(name);
  const noConfig = await Deno.makeTempFile({ prefix: "kiln-aws-config-" });
  // The user's own ~/.aws/config must not decide the region in a test.
  Deno.env.set("AWS_CONFIG_FILE", noConfig);
  const ec2 = await startEc2Emulator();
  try {
    await body(ec2);
  } finally {
    await ec2.close();
    await Deno.remove(noConfig);
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
}

/** The block's access options for the emulator ("" region: none in the block). */
function access(ec2: Ec2EmulatorHandle, region = "us-east-1") {
  return {
    ...(region ? { region } : {}),
    access_key: "AKIAKILNTEST00000001",
    secret_key: "kiln-test-secret",
    custom_endpoint_ec2: ec2.endpoint,
  };
}

/** The id the emulator gave the image called `name` in `region`. */
function idOf(ec2: Ec2EmulatorHandle, region: string, name: string): string {
  const image = [...ec2.emulator.images.values()].find((i) =>
    i.region === region && i.name === name
  );
  assert.ok(image, `no ${name} in ${region}`);
  return image.imageId;
}

Deno.test("filters, owners and most_recent select the newest matching image", async () => {
  await withEmulator(async (ec2) => {
    const { outputs } = await run("amazon-ami", {
      ...access(ec2),
      filters: { name: UBUNTU, "root-device-type": "instance-store" },
      owners: [CANONICAL_OWNER_ID],
      most_recent: true,
    });
    assert.deepEqual(outputs, {
      id: idOf(ec2, "us-east-1", NEWEST_UBUNTU),
      name: NEWEST_UBUNTU,
      creation_date: "2023-06-01T08:40:10.000Z",
      owner: CANONICAL_OWNER_ID,
      owner_name: "",
      tags: {},
    });
  });
});

Deno.test("the owner narrows the search: the same name from another account is not taken", async () => {
  await withEmulator(async (ec2) => {
    const mine = addImage(ec2.emulator, "us-east-1", {
      name: "golden-base-2024",
      ownerId: "111122223333",
      ownerAlias: "golden",
      creationDate: "2024-02-01T00:00:00.000Z",
    }, { Team: "platform", Channel: "stable" });
    addImage(ec2.emulator, "us-east-1", {
      name: "golden-base-2024",
      ownerId: "999988887777",
      creationDate: "2024-03-01T00:00:00.000Z",
    });
    const { outputs } = await run("amazon-ami", {
      ...access(ec2),
      filters: { name: "golden-base-*" },
      owners: ["111122223333"],
    });
    assert.equal(outputs.id, mine);
    assert.equal(outputs.owner, "111122223333");
    assert.equal(outputs.owner_name, "golden");
    assert.deepEqual(outputs.tags, { Channel: "stable", Team: "platform" });
    // An owner alias works as in EC2.
    const byAlias = await run("amazon-ami", {
      ...access(ec2),
      filters: { name: "golden-*" },
      owners: ["golden"],
    });
    assert.equal(byAlias.outputs.id, mine);
  });
});

Deno.test("several matches without most_recent fail with Packer's advice", async () => {
  await withEmulator(async (ec2) => {
    await assert.rejects(
      run("amazon-ami", {
        ...access(ec2),
        filters: { name: UBUNTU },
        owners: [CANONICAL_OWNER_ID],
      }),
      {
        message: "Your query returned more than one result. Please try a more specific search, " +
          "or set most_recent to true.",
      },
    );
  });
});

Deno.test("no match fails, naming the filters and owners", async () => {
  await withEmulator(async (ec2) => {
    await assert.rejects(
      run("amazon-ami", {
        ...access(ec2),
        filters: { name: "ubuntu/images/*focal*", "virtualization-type": "hvm" },
        owners: [CANONICAL_OWNER_ID],
        most_recent: true,
      }),
      {
        message: 'No AMI was found matching filters: name = "ubuntu/images/*focal*", ' +
          `virtualization-type = "hvm"; owners: ${CANONICAL_OWNER_ID}`,
      },
    );
  });
});

Deno.test("a filter value lists alternatives separated by commas", async () => {
  await withEmulator(async (ec2) => {
    const newest = "amzn2-ami-hvm-2.0.20231218.0-x86_64-gp2";
    const { outputs } = await run("amazon-ami", {
      ...access(ec2),
      filters: { name: "amzn-ami-minimal-pv-*, amzn2-ami-hvm-*" },
      owners: ["amazon"],
      most_recent: true,
    });
    assert.equal(outputs.name, newest);
    assert.equal(outputs.owner, AMAZON_OWNER_ID);
    assert.equal(outputs.owner_name, "amazon");
    // Two alternatives, two images: without most_recent that is ambiguous.
    await assert.rejects(
      run("amazon-ami", {
        ...access(ec2),
        filters: { name: "amzn-ami-minimal-pv-*, amzn2-ami-hvm-*" },
        owners: ["amazon"],
      }),
      /more than one result/,
    );
  });
});

Deno.test("a deprecated image is only picked with include_deprecated", async () => {
  await withEmulator(async (ec2) => {
    const old = addImage(ec2.emulator, "us-east-1", {
      name: "app-base-1",
      ownerId: "111122223333",
      creationDate: "2024-01-01T00:00:00.000Z",
    });
    const deprecated = addImage(ec2.emulator, "us-east-1", {
      name: "app-base-2",
      ownerId: "111122223333",
      creationDate: "2024-06-01T00:00:00.000Z",
      deprecationTime: "2024-07-01T00:00:00.000Z",
    });
    const block = {
      ...access(ec2),
      filters: { name: "app-base-*" },
      owners: ["111122223333"],
      most_recent: true,
    };
    assert.equal((await run("amazon-ami", block)).outputs.id, old);
    const withDeprecated = await run("amazon-ami", { ...block, include_deprecated: true });
    assert.equal(withDeprecated.outputs.id, deprecated);
  });
});

Deno.test("without region, AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region is used", async () => {
  await withEmulator(async (ec2) => {
    const block = (extra: Record<string, unknown> = {}) => ({
      ...access(ec2, ""),
      filters: { name: NEWEST_UBUNTU },
      owners: [CANONICAL_OWNER_ID],
      ...extra,
    });
    Deno.env.set("AWS_DEFAULT_REGION", "eu-west-1");
    assert.equal(
      (await run("amazon-ami", block())).outputs.id,
      idOf(ec2, "eu-west-1", NEWEST_UBUNTU),
    );
    Deno.env.set("AWS_REGION", "us-west-2");
    assert.equal(
      (await run("amazon-ami", block())).outputs.id,
      idOf(ec2, "us-west-2", NEWEST_UBUNTU),
    );
    // The block's own region wins over the environment.
    assert.equal(
      (await run("amazon-ami", block({ region: "eu-central-1" }))).outputs.id,
      idOf(ec2, "eu-central-1", NEWEST_UBUNTU),
    );
    Deno.env.delete("AWS_REGION");
    Deno.env.delete("AWS_DEFAULT_REGION");
    // A new file: the SDK caches a config file's content by its path for the process.
    const config = await Deno.makeTempFile({ prefix: "kiln-aws-config-" });
    try {
      await Deno.writeTextFile(
        config,
        "[default]\nregion = us-west-1\n\n[profile builds]\nregion = ap-southeast-2\n",
      );
      Deno.env.set("AWS_CONFIG_FILE", config);
      assert.equal(
        (await run("amazon-ami", block())).outputs.id,
        idOf(ec2, "us-west-1", NEWEST_UBUNTU),
      );
      assert.equal(
        (await run("amazon-ami", block({ profile: "builds" }))).outputs.id,
        idOf(ec2, "ap-southeast-2", NEWEST_UBUNTU),
      );
    } finally {
      await Deno.remove(config);
    }
  });
});

Deno.test("no region anywhere: the error says where one may be set", async () => {
  await withEmulator(async (ec2) => {
    await assert.rejects(
      run("amazon-ami", {
        ...access(ec2, ""),
        filters: { name: NEWEST_UBUNTU },
        owners: [CANONICAL_OWNER_ID],
      }),
      (err: Error) => {
        assert.match(err.message, /^No AWS region: set "region" in the data source, AWS_REGION/);
        return true;
      },
    );
  });
});

Deno.test("an EC2 error is reported as Packer's 'Error querying AMI'", async () => {
  await withEmulator(async (ec2) => {
    await assert.rejects(
      run("amazon-ami", {
        ...access(ec2),
        filters: { "no-such-filter": "x" },
        owners: ["amazon"],
      }),
      (err: Error) => {
        assert.match(err.message, /^Error querying AMI: The filter 'no-such-filter' is invalid/);
        return true;
      },
    );
  });
});

Deno.test("the block is checked when decoded, as Packer's Configure does", async () => {
  assert.deepEqual(await problems("amazon-ami", {}), [
    "data.amazon-ami.test.filters: The `filters` must be specified",
    "data.amazon-ami.test.owners: For security reasons, you must declare an owner.",
  ]);
  assert.deepEqual(await problems("amazon-ami", { filters: { name: "x" } }), [
    "data.amazon-ami.test.owners: For security reasons, you must declare an owner.",
  ]);
  assert.deepEqual(await problems("amazon-ami", { owners: ["self"], access_key: "AKIA" }), [
    "data.amazon-ami.test.access_key: `access_key` and `secret_key` must both be either set or not set.",
  ]);
  assert.deepEqual(await problems("amazon-ami", { owners: ["self"], filters: { name: "" } }), [
    'data.amazon-ami.test.filters: Couldn\'t parse ami filters: the value of "name" is empty',
  ]);
  assert.deepEqual(await problems("amazon-ami", { owners: ["self"], source_ami: "ami-1" }), [
    'data.amazon-ami.test.source_ami: unknown configuration key: "source_ami"',
  ]);
  const plugin = await loadDataSource("amazon-ami");
  assert.equal(plugin?.schema.fields.secret_key.sensitive, true);
  assert.equal(plugin?.schema.fields.token.sensitive, true);
  assert.deepEqual(Object.keys(plugin?.outputs ?? {}), [
    "id",
    "name",
    "creation_date",
    "owner",
    "owner_name",
    "tags",
  ]);
});

Deno.test("a quoted filter value may hold a comma", async () => {
  await withEmulator(async (ec2) => {
    const id = addImage(ec2.emulator, "us-east-1", {
      name: "base, hardened",
      ownerId: "111122223333",
      creationDate: "2024-01-01T00:00:00.000Z",
    });
    const { outputs } = await run("amazon-ami", {
      ...access(ec2),
      filters: { name: '"base, hardened", "other"' },
      owners: ["111122223333"],
    });
    assert.equal(outputs.id, id);
  });
});
