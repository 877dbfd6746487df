/**
 * The IAM emulator through the real `@aws-sdk/client-iam` (served on the EC2
 * emulator's port, told apart by the SigV4 service `iam`): roles, inline
 * policies and instance profiles with IAM's rules — one role per profile,
 * DeleteConflict while something still holds on, NoSuchEntity, validation —
 * EC2 launches refusing a profile until it has propagated, and the fault
 * switches applied to IAM calls.
 */
import assert from "node:assert/strict";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
} from "@aws-sdk/client-iam";
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  type EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { errorCode } from "../../steps/aws/client.ts";
import type { Ec2EmulatorHandle, StartEc2Options } from "../support/ec2/mod.ts";
import { CREDENTIALS, withEmulator } from "./helpers.ts";

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{
    Effect: "Allow",
    Principal: { Service: "ec2.amazonaws.com" },
    Action: "sts:AssumeRole",
  }],
});

const POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
});

/** Runs `fn` with an emulator and IAM + EC2 clients pointed at it (no SDK retries: faults surface). */
async function withIam(
  options: StartEc2Options,
  fn: (iam: IAMClient, emulator: Ec2EmulatorHandle, ec2: EC2Client) => Promise<void>,
): Promise<void> {
  await withEmulator(options, async (emulator, ec2) => {
    const iam = new IAMClient({
      endpoint: emulator.endpoint,
      region: "us-east-1",
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      await fn(iam, emulator, ec2);
    } finally {
      iam.destroy();
    }
  });
}

/** Checks the wire code (the SDK names modeled IAM errors `<Code>Exception`) and status. */
const rejectsWith = (code: string, status?: number) => (e: Error) => {
  assert.equal(errorCode(e), code, e.message);
  if (status) {
    const metadata = (e as { $metadata?: { httpStatusCode?: number } }).$metadata;
    assert.equal(metadata?.httpStatusCode, status);
  }
  return true;
};

function createRole(iam: IAMClient, roleName: string) {
  return iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      Path: "/kiln/",
      Description: "test role",
      AssumeRolePolicyDocument: TRUST,
      Tags: [{ Key: "kiln:run-id", Value: "run-1" }],
    }),
  );
}

Deno.test("IAM roles: create, get, inline policies; no duplicate and no deleting a role with policies", async () => {
  await withIam({}, async (iam, emulator) => {
    const created = (await createRole(iam, "kiln-role")).Role!;
    assert.equal(created.Arn, "arn:aws:iam::123456789012:role/kiln/kiln-role");
    assert.match(created.RoleId!, /^AROA[A-Z2-7]{17}$/);
    const role = (await iam.send(new GetRoleCommand({ RoleName: "kiln-role" }))).Role!;
    assert.equal(role.Arn, created.Arn);
    assert.equal(role.Description, "test role");
    assert.deepEqual(role.Tags, [{ Key: "kiln:run-id", Value: "run-1" }]);
    // IAM returns policy documents URL-encoded, as the real service does.
    assert.deepEqual(
      JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)).Statement[0].Principal,
      { Service: "ec2.amazonaws.com" },
    );
    await assert.rejects(createRole(iam, "kiln-role"), rejectsWith("EntityAlreadyExists", 409));

    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "kiln-role",
        PolicyName: "kiln-policy",
        PolicyDocument: POLICY,
      }),
    );
    const policy = await iam.send(
      new GetRolePolicyCommand({ RoleName: "kiln-role", PolicyName: "kiln-policy" }),
    );
    assert.equal(decodeURIComponent(policy.PolicyDocument!), POLICY);
    assert.deepEqual(
      (await iam.send(new ListRolePoliciesCommand({ RoleName: "kiln-role" }))).PolicyNames,
      ["kiln-policy"],
    );
    assert.deepEqual(emulator.ledger().iamRoles[0].policies, ["kiln-policy"]);

    await assert.rejects(
      iam.send(new DeleteRoleCommand({ RoleName: "kiln-role" })),
      rejectsWith("DeleteConflict", 409),
    );
    await iam.send(
      new DeleteRolePolicyCommand({ RoleName: "kiln-role", PolicyName: "kiln-policy" }),
    );
    await assert.rejects(
      iam.send(new DeleteRolePolicyCommand({ RoleName: "kiln-role", PolicyName: "kiln-policy" })),
      rejectsWith("NoSuchEntity", 404),
    );
    await iam.send(new DeleteRoleCommand({ RoleName: "kiln-role" }));
    await assert.rejects(
      iam.send(new GetRoleCommand({ RoleName: "kiln-role" })),
      rejectsWith("NoSuchEntity", 404),
    );
    assert.deepEqual(emulator.leaks(), []);
  });
});

Deno.test("IAM instance profiles: one role each; no deleting a profile holding a role, nor a role in a profile", async () => {
  await withIam({}, async (iam, emulator) => {
    await createRole(iam, "role-a");
    await createRole(iam, "role-b");
    const created = (await iam.send(
      new CreateInstanceProfileCommand({ InstanceProfileName: "kiln-profile" }),
    )).InstanceProfile!;
    assert.equal(created.Arn, "arn:aws:iam::123456789012:instance-profile/kiln-profile");
    assert.deepEqual(created.Roles, []);
    await assert.rejects(
      iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "kiln-profile" })),
      rejectsWith("EntityAlreadyExists", 409),
    );

    const add = (roleName: string) =>
      iam.send(
        new AddRoleToInstanceProfileCommand({
          InstanceProfileName: "kiln-profile",
          RoleName: roleName,
        }),
      );
    await add("role-a");
    await assert.rejects(add("role-b"), rejectsWith("LimitExceeded", 409));
    await assert.rejects(add("no-such-role"), rejectsWith("NoSuchEntity", 404));
    const profile = (await iam.send(
      new GetInstanceProfileCommand({ InstanceProfileName: "kiln-profile" }),
    )).InstanceProfile!;
    assert.deepEqual(profile.Roles!.map((r) => r.RoleName), ["role-a"]);
    assert.equal(profile.Roles![0].Arn, "arn:aws:iam::123456789012:role/kiln/role-a");
    const forRole = await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: "role-a" }));
    assert.deepEqual(forRole.InstanceProfiles!.map((p) => p.InstanceProfileName), [
      "kiln-profile",
    ]);
    assert.deepEqual(
      (await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: "role-b" })))
        .InstanceProfiles,
      [],
    );

    await assert.rejects(
      iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "kiln-profile" })),
      rejectsWith("DeleteConflict", 409),
    );
    await assert.rejects(
      iam.send(new DeleteRoleCommand({ RoleName: "role-a" })),
      rejectsWith("DeleteConflict", 409),
    );
    const remove = (roleName: string) =>
      iam.send(
        new RemoveRoleFromInstanceProfileCommand({
          InstanceProfileName: "kiln-profile",
          RoleName: roleName,
        }),
      );
    await assert.rejects(remove("role-b"), rejectsWith("NoSuchEntity", 404));
    await remove("role-a");
    await assert.rejects(remove("role-a"), rejectsWith("NoSuchEntity", 404));
    assert.deepEqual(emulator.ledger().instanceProfiles[0].roles, []);

    await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "kiln-profile" }));
    await assert.rejects(
      iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "kiln-profile" })),
      rejectsWith("NoSuchEntity", 404),
    );
    await assert.rejects(
      iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "kiln-profile" })),
      rejectsWith("NoSuchEntity", 404),
    );
    await iam.send(new DeleteRoleCommand({ RoleName: "role-a" }));
    await iam.send(new DeleteRoleCommand({ RoleName: "role-b" }));
    assert.deepEqual(emulator.leaks(), []);
  });
});

Deno.test("IAM validation: bad names, paths and policy documents are refused", async () => {
  await withIam({}, async (iam, emulator) => {
    await assert.rejects(createRole(iam, "no spaces"), rejectsWith("ValidationError", 400));
    await assert.rejects(createRole(iam, "r".repeat(65)), rejectsWith("ValidationError", 400));
    await assert.rejects(
      iam.send(
        new CreateRoleCommand({
          RoleName: "kiln-role",
          Path: "no-slashes",
          AssumeRolePolicyDocument: TRUST,
        }),
      ),
      rejectsWith("ValidationError", 400),
    );
    await assert.rejects(
      iam.send(new CreateRoleCommand({ RoleName: "kiln-role", AssumeRolePolicyDocument: "{" })),
      rejectsWith("MalformedPolicyDocument", 400),
    );
    await createRole(iam, "kiln-role");
    await assert.rejects(
      iam.send(
        new PutRolePolicyCommand({
          RoleName: "kiln-role",
          PolicyName: "p",
          PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
        }),
      ),
      rejectsWith("MalformedPolicyDocument", 400),
    );
    await assert.rejects(
      iam.send(
        new PutRolePolicyCommand({ RoleName: "no-role", PolicyName: "p", PolicyDocument: POLICY }),
      ),
      rejectsWith("NoSuchEntity", 404),
    );
    assert.deepEqual(emulator.ledger().iamRoles.map((r) => [r.roleName, r.policies]), [
      ["kiln-role", []],
    ]);
  });
});

Deno.test("EC2 refuses an instance profile until IAM's change has propagated, then launches with it", async () => {
  // A long propagation first, so the refusal cannot depend on how fast the machine is.
  await withIam({ iamPropagationMs: 600_000 }, async (iam, emulator, ec2) => {
    {
      await createRole(iam, "kiln-role");
      await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "kiln-profile" }));
      const attach = () =>
        iam.send(
          new AddRoleToInstanceProfileCommand({
            InstanceProfileName: "kiln-profile",
            RoleName: "kiln-role",
          }),
        );
      await attach();
      const imageId = (await ec2.send(
        new DescribeImagesCommand({ Filters: [{ Name: "name", Values: ["amzn-ami-hvm-*"] }] }),
      )).Images![0].ImageId!;
      const launch = (profile: { Name?: string; Arn?: string }) =>
        ec2.send(
          new RunInstancesCommand({
            ImageId: imageId,
            MinCount: 1,
            MaxCount: 1,
            IamInstanceProfile: profile,
          }),
        );
      await assert.rejects(launch({ Name: "kiln-profile" }), (e: Error) => {
        assert.equal(e.name, "InvalidParameterValue");
        assert.match(e.message, /iamInstanceProfile\.name/);
        return true;
      });
      await assert.rejects(
        launch({ Name: "no-such-profile" }),
        rejectsWith("InvalidParameterValue"),
      );
      assert.equal(emulator.ledger().launches, 0);

      // Changing the profile's role starts propagation again, now with no delay.
      emulator.emulator.timing.iamPropagationMs = 0;
      await iam.send(
        new RemoveRoleFromInstanceProfileCommand({
          InstanceProfileName: "kiln-profile",
          RoleName: "kiln-role",
        }),
      );
      await attach();
      const arn = emulator.ledger().instanceProfiles[0].arn;
      const out = await launch({ Arn: arn });
      const instanceId = out.Instances![0].InstanceId!;
      const described =
        (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))
          .Reservations![0].Instances![0];
      assert.equal(described.IamInstanceProfile?.Arn, arn);
      assert.match(described.IamInstanceProfile?.Id ?? "", /^AIPA[A-Z2-7]{17}$/);
    }
  });
});

Deno.test("IAM calls obey the fault switches: a named failure, a lost answer, eventual consistency", async () => {
  await withIam({
    faults: {
      failCalls: [{ action: "CreateRole", nth: 1, code: "ServiceFailure", status: 500 }],
      lostResponses: [{ action: "CreateInstanceProfile", nth: 1 }],
    },
  }, async (iam, emulator) => {
    await assert.rejects(createRole(iam, "kiln-role"), rejectsWith("ServiceFailure", 500));
    assert.deepEqual(emulator.ledger().iamRoles, [], "the failed call did nothing");
    await createRole(iam, "kiln-role");

    // The profile is created, but the client only sees a 500: a retry meets the profile.
    await assert.rejects(
      iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "kiln-profile" })),
      rejectsWith("InternalError", 500),
    );
    assert.equal(emulator.ledger().instanceProfiles.length, 1);
    await assert.rejects(
      iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "kiln-profile" })),
      rejectsWith("EntityAlreadyExists", 409),
    );

    // A new role stays invisible to the next two lookups by name.
    emulator.faults.invisibleForDescribes = 2;
    await createRole(iam, "late-role");
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        iam.send(new GetRoleCommand({ RoleName: "late-role" })),
        rejectsWith("NoSuchEntity", 404),
      );
    }
    assert.equal(
      (await iam.send(new GetRoleCommand({ RoleName: "late-role" }))).Role!.RoleName,
      "late-role",
    );
    assert.equal(emulator.ledger().faultsInjected.LostResponse, 1);
    assert.equal(emulator.ledger().calls.CreateRole, 3);
  });
});
