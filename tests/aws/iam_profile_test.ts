/**
 * The temporary IAM instance profile end to end: role (EC2 trust policy) +
 * inline policy + profile, the instance launched with it, and all four
 * undone in reverse — after a successful build, a failing provisioner,
 * Ctrl-C and a kill -9 followed by `cleanup`. IAM is the emulator's, on the
 * EC2 emulator's port, reached through the SDK's AWS_ENDPOINT_URL_IAM.
 */
import assert from "node:assert/strict";
import type { StartEc2Options } from "../support/ec2/mod.ts";
import {
  amazonTemplate,
  type AwsWorkspace,
  awsWorkspace,
  interruptWhen,
  kiln,
  runEvents,
  writeTemplate,
} from "./support.ts";

const POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: "*" }],
};

const IAM_WRITES = [
  "CreateRole",
  "PutRolePolicy",
  "CreateInstanceProfile",
  "AddRoleToInstanceProfile",
  "RemoveRoleFromInstanceProfile",
  "DeleteInstanceProfile",
  "DeleteRolePolicy",
  "DeleteRole",
];

async function iamWorkspace(options: StartEc2Options = {}) {
  const ws = await awsWorkspace(options);
  const env = { AWS_ENDPOINT_URL_IAM: ws.emulator.endpoint };
  return { ws, env };
}

function template(ws: AwsWorkspace, provisioners: unknown[] = [], extra = {}) {
  return writeTemplate(
    ws,
    amazonTemplate(
      ws,
      { temporary_iam_instance_profile_policy_document: POLICY, ...extra },
      provisioners,
    ),
  );
}

function assertNoIamLeft(ws: AwsWorkspace) {
  const ledger = ws.emulator.ledger();
  assert.deepEqual(ledger.instanceProfiles, [], "no instance profile left");
  assert.deepEqual(ledger.iamRoles, [], "no role left");
}

Deno.test("amazon-instance IAM: a temporary instance profile is created, used and deleted in reverse", async () => {
  // IAM changes reach EC2 late here: the launch has to wait for the new profile.
  const { ws, env } = await iamWorkspace({ iamPropagationMs: 1_000 });
  try {
    const result = await kiln(ws, ["build", await template(ws)], env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assertNoIamLeft(ws);
    const ledger = ws.emulator.ledger();
    assert.equal(ledger.images.length, 1);
    assert.deepEqual(ledger.instances, []);
    assert.equal(ledger.launches, 1);

    const requests = ws.emulator.requests().filter((r) => r.status === 200);
    assert.deepEqual(
      requests.filter((r) => IAM_WRITES.includes(r.action)).map((r) => r.action),
      IAM_WRITES,
      "created in order, undone in reverse",
    );
    const role = requests.find((r) => r.action === "CreateRole")!.params;
    const trust = JSON.parse(role.AssumeRolePolicyDocument);
    assert.deepEqual(trust.Statement[0].Principal, { Service: "ec2.amazonaws.com" });
    const tags = Object.fromEntries(
      [1, 2, 3].map((n) => [role[`Tags.member.${n}.Key`], role[`Tags.member.${n}.Value`]]),
    );
    assert.equal(tags["kiln:run-id"], result.runId, "the role carries the run's tags");
    const policy = requests.find((r) => r.action === "PutRolePolicy")!.params;
    assert.deepEqual(JSON.parse(policy.PolicyDocument).Statement[0].Action, [
      "s3:PutObject",
      "s3:GetObject",
    ]);
    const launch = requests.find((r) => r.action === "RunInstances")!.params;
    assert.equal(launch["IamInstanceProfile.Name"], role.RoleName);
    const instance = [...ws.emulator.emulator.instances.values()][0];
    assert.match(instance.iamInstanceProfile?.arn ?? "", /:instance-profile\/kiln-/);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance IAM: a failing provisioner leaves no role or profile", async () => {
  const { ws, env } = await iamWorkspace();
  try {
    const result = await kiln(
      ws,
      ["build", await template(ws, [{ type: "shell", inline: ["exit 3"] }])],
      env,
    );
    assert.notEqual(result.code, 0);
    assertNoIamLeft(ws);
    assert.deepEqual(ws.emulator.leaks(), []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance IAM: Ctrl-C while provisioning leaves no role or profile", async () => {
  const { ws, env } = await iamWorkspace();
  try {
    const path = await template(ws, [{
      type: "shell",
      inline: ["echo kiln-provisioning-sleeps", "sleep 60"],
    }]);
    const result = await interruptWhen(ws, ["build", path], "kiln-provisioning-sleeps", env);
    assert.notEqual(result.code, 0, result.stdout + result.stderr);
    const events = await runEvents(ws, result.runId!);
    assert.equal(events.at(-1)?.data.status, "cancelled");
    assertNoIamLeft(ws);
    assert.deepEqual(ws.emulator.leaks(), []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance IAM: killed after the profile was created, cleanup removes role and profile", async () => {
  const { ws, env } = await iamWorkspace();
  try {
    const crashed = await kiln(ws, ["build", await template(ws)], {
      ...env,
      KILN_CRASH_AFTER: "ResourceIntent:aws.iam_profile_role",
    });
    assert.notEqual(crashed.code, 0);
    assert.equal(ws.emulator.ledger().instanceProfiles.length, 1);
    const cleaned = await kiln(ws, ["cleanup", crashed.runId!], env);
    assert.equal(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
    assert.deepEqual(ws.emulator.leaks(), []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance IAM: killed between AddRoleToInstanceProfile and its record, resume adopts everything", async () => {
  const { ws, env } = await iamWorkspace({
    faults: { lostResponses: [{ action: "AddRoleToInstanceProfile", nth: 1 }] },
  });
  try {
    // The lost answer makes the SDK retry (LimitExceeded: already attached); kill at the retry.
    const crashed = await kiln(ws, ["build", await template(ws)], {
      ...env,
      KILN_CRASH_AFTER: "AwsRetry",
    });
    assert.notEqual(crashed.code, 0);
    assert.deepEqual(ws.emulator.ledger().instanceProfiles[0]?.roles.length, 1);
    const resumed = await kiln(ws, ["build", "--resume", crashed.runId!], env);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const calls = ws.emulator.ledger().calls;
    assert.equal(calls.CreateRole, 1);
    assert.equal(calls.CreateInstanceProfile, 1);
    assertNoIamLeft(ws);
    assert.equal(ws.emulator.ledger().launches, 1);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance IAM: an iam_instance_profile that does not exist is refused before launch", async () => {
  const { ws, env } = await iamWorkspace();
  try {
    const path = await writeTemplate(
      ws,
      amazonTemplate(ws, { iam_instance_profile: "no-such-profile" }),
    );
    const result = await kiln(ws, ["build", path], env);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stdout + result.stderr,
      /iam_instance_profile "no-such-profile" does not exist/,
    );
    assert.equal(ws.emulator.ledger().launches, 0);
    assert.deepEqual(ws.emulator.leaks(), []);
  } finally {
    await ws.close();
  }
});

Deno.test("amazon-instance IAM: a spot build launches its fleet with the temporary profile", async () => {
  const { ws, env } = await iamWorkspace({ iamPropagationMs: 1_000 });
  try {
    const result = await kiln(ws, ["build", await template(ws, [], { spot_price: "auto" })], env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const instance = [...ws.emulator.emulator.instances.values()][0];
    assert.equal(instance.instanceLifecycle, "spot");
    assert.match(instance.iamInstanceProfile?.arn ?? "", /:instance-profile\/kiln-/);
    assertNoIamLeft(ws);
    assert.equal(ws.emulator.ledger().launches, 1);
  } finally {
    await ws.close();
  }
});
