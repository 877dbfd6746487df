/**
 * The instance profile the build instance is launched with: the user's
 * `iam_instance_profile` (checked to exist unless skip_profile_validation),
 * or a temporary one made from
 * `temporary_iam_instance_profile_policy_document` — a role EC2 may assume,
 * the document as its inline policy, a profile holding the role. Each of the
 * four is its own ledger entry, so failure, Ctrl-C and `kiln cleanup` undo
 * them in reverse: detach the role, delete the profile, the policy, the role.
 * All carry the run's name (`kiln-<run>-<build>`) and tags, which is how
 * reconcile finds them after a crash.
 */
import type { ResourceHandler, Step, StepContext } from "../../runtime/types.ts";
import { errorCode, isNotFound } from "./client.ts";
import { withIam } from "./iam_client.ts";
import { clientToken, kilnTags, resourceName } from "./identity.ts";
import { polling, waitFor } from "./wait.ts";
import { regionOf } from "./region.ts";

/** Ledger kinds, in creation order. */
export const IAM_KINDS = {
  role: "aws.iam_role",
  policy: "aws.iam_role_policy",
  profile: "aws.iam_instance_profile",
  attachment: "aws.iam_profile_role",
} as const;

/** The profile the instance is launched with ("" = none). */
export interface IamProfileOutput {
  profileName: string;
  /** kiln created it for this build. */
  temporary: boolean;
}

/** EC2 may assume the role: what an instance profile's role needs. */
const EC2_TRUST_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{
    Effect: "Allow",
    Principal: { Service: "ec2.amazonaws.com" },
    Action: "sts:AssumeRole",
  }],
});

/** One name for role, policy and profile; IAM role names stop at 64 characters. */
async function iamName(ctx: Pick<StepContext, "runId" | "buildName">): Promise<string> {
  const name = resourceName(ctx);
  if (name.length <= 64) return name;
  return `kiln-${ctx.runId}-${(await clientToken(ctx, "iam")).slice(0, 12)}`.slice(0, 64);
}

/** Whether this build has an instance-profile step at all. */
export function needsIamStep(config: Record<string, unknown>): boolean {
  return Boolean(
    config.iam_instance_profile || config.temporary_iam_instance_profile_policy_document,
  );
}

async function validateProfile(ctx: StepContext, name: string): Promise<void> {
  await withIam(ctx, async (iam, sdk) => {
    try {
      await iam.send(new sdk.GetInstanceProfileCommand({ InstanceProfileName: name }), {
        abortSignal: ctx.signal,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new Error(
        `iam_instance_profile "${name}" does not exist (${(err as Error).message}); ` +
          "set skip_profile_validation to launch without checking it",
      );
    }
  });
}

/** The "IAM instance profile" step. */
export function iamInstanceProfileStep(): Step<IamProfileOutput> {
  // What reconcile found and put in the ledger; run() completes only the rest.
  const adopted = new Set<string>();
  return {
    id: "aws.iam_instance_profile",
    async run(ctx) {
      const given = String(ctx.config.iam_instance_profile ?? "");
      if (given) {
        if (!ctx.config.skip_profile_validation) await validateProfile(ctx, given);
        return { profileName: given, temporary: false };
      }
      const document = ctx.config.temporary_iam_instance_profile_policy_document;
      if (!document) return { profileName: "", temporary: false };
      const name = await iamName(ctx);
      const region = regionOf(ctx.config);
      const tags = kilnTags(ctx);
      await withIam(ctx, async (iam, sdk) => {
        const opts = { abortSignal: ctx.signal };
        /** Creates one piece unless reconcile adopted it; "already there" counts as created. */
        const piece = async (kind: string, id: string, create: () => Promise<unknown>) => {
          if (adopted.has(kind)) return;
          await ctx.intent({ kind, token: id });
          try {
            await create();
          } catch (err) {
            if (!["EntityAlreadyExists", "LimitExceeded"].includes(errorCode(err))) throw err;
          }
          await ctx.created({
            kind,
            id,
            region,
            data: { role: name, profile: name },
            temporary: true,
          });
        };
        ctx.ui.say(`Creating temporary role for this instance: ${name}`);
        await piece(IAM_KINDS.role, name, () =>
          iam.send(
            new sdk.CreateRoleCommand({
              RoleName: name,
              Description: "Temporary role for kiln",
              AssumeRolePolicyDocument: EC2_TRUST_POLICY,
              Tags: tags,
            }),
            opts,
          ));
        ctx.ui.say(`Attaching policy to the temporary role: ${name}`);
        await piece(IAM_KINDS.policy, name, () =>
          iam.send(
            new sdk.PutRolePolicyCommand({
              RoleName: name,
              PolicyName: name,
              PolicyDocument: JSON.stringify(document),
            }),
            opts,
          ));
        ctx.ui.say(`Creating temporary instance profile for this instance: ${name}`);
        await piece(IAM_KINDS.profile, name, () =>
          iam.send(
            new sdk.CreateInstanceProfileCommand({ InstanceProfileName: name, Tags: tags }),
            opts,
          ));
        await piece(IAM_KINDS.attachment, name, () =>
          iam.send(
            new sdk.AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }),
            opts,
          ));
      });
      await waitUsable(ctx, name);
      return { profileName: name, temporary: true };
    },
    async reconcile(ctx, intents) {
      if (!intents.some((i) => Object.values(IAM_KINDS).includes(i.kind as never))) {
        return undefined;
      }
      const name = await iamName(ctx);
      const region = regionOf(ctx.config);
      const found = await withIam(ctx, async (iam, sdk) => {
        const exists = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
          try {
            return await call();
          } catch (err) {
            if (isNotFound(err)) return undefined;
            throw err;
          }
        };
        const role = await exists(() => iam.send(new sdk.GetRoleCommand({ RoleName: name })));
        const policies = role
          ? (await iam.send(new sdk.ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? []
          : [];
        const profile = await exists(() =>
          iam.send(new sdk.GetInstanceProfileCommand({ InstanceProfileName: name }))
        );
        const roles = profile?.InstanceProfile?.Roles?.map((r) => r.RoleName) ?? [];
        return [
          [IAM_KINDS.role, Boolean(role)],
          [IAM_KINDS.policy, policies.includes(name)],
          [IAM_KINDS.profile, Boolean(profile)],
          [IAM_KINDS.attachment, roles.includes(name)],
        ] as const;
      });
      for (const [kind, present] of found) {
        if (!present) continue;
        ctx.ui.say(`Adopting ${kind} ${name} created before the interruption`);
        await ctx.created({
          kind,
          id: name,
          region,
          data: { role: name, profile: name },
          temporary: true,
        });
        adopted.add(kind);
      }
      if (adopted.size < found.length) return undefined;
      await waitUsable(ctx, name);
      return { profileName: name, temporary: true };
    },
  };
}

/** Waits until IAM shows the profile with its role (IAM is eventually consistent). */
async function waitUsable(ctx: StepContext, name: string): Promise<void> {
  await withIam(ctx, (iam, sdk) =>
    waitFor(
      `instance profile ${name} to hold its role`,
      polling(ctx.config, { delayMs: 1_000, maxAttempts: 40 }),
      ctx.signal,
      async () => {
        try {
          const out = await iam.send(
            new sdk.GetInstanceProfileCommand({ InstanceProfileName: name }),
            { abortSignal: ctx.signal },
          );
          return out.InstanceProfile?.Roles?.some((r) => r.RoleName === name) ? true : undefined;
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
    ));
}

/** Runs `call`; "not found" counts as done. */
async function unlessGone(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Deletes with `remove`; when IAM refuses because something still holds on
 * (a ledger entry lost to a crash), `release` lets go of it and `remove`
 * runs once more.
 */
async function deleteReleasing(
  remove: () => Promise<unknown>,
  release: () => Promise<void>,
): Promise<void> {
  await unlessGone(async () => {
    try {
      await remove();
    } catch (err) {
      if (errorCode(err) !== "DeleteConflict") throw err;
      await release();
      await remove();
    }
  });
}

/** Detaches the temporary role from the temporary profile. */
export const iamProfileRoleHandler: ResourceHandler = {
  delete: (ctx, resource) =>
    withIam(ctx, async (iam, sdk) => {
      ctx.ui.say("Detaching temporary role from instance profile...");
      await unlessGone(() =>
        iam.send(
          new sdk.RemoveRoleFromInstanceProfileCommand({
            InstanceProfileName: String(resource.data?.profile ?? resource.id),
            RoleName: String(resource.data?.role ?? resource.id),
          }),
        )
      );
    }),
};

/** Deletes the temporary profile (detaching a role still in it). */
export const iamProfileHandler: ResourceHandler = {
  delete: (ctx, resource) =>
    withIam(ctx, async (iam, sdk) => {
      ctx.ui.say("Deleting temporary instance profile...");
      const name = resource.id;
      await deleteReleasing(
        () => iam.send(new sdk.DeleteInstanceProfileCommand({ InstanceProfileName: name })),
        async () => {
          const out = await iam.send(
            new sdk.GetInstanceProfileCommand({ InstanceProfileName: name }),
          );
          for (const role of out.InstanceProfile?.Roles ?? []) {
            await iam.send(
              new sdk.RemoveRoleFromInstanceProfileCommand({
                InstanceProfileName: name,
                RoleName: role.RoleName,
              }),
            );
          }
        },
      );
    }),
};

/** Removes the inline policy from the temporary role. */
export const iamRolePolicyHandler: ResourceHandler = {
  delete: (ctx, resource) =>
    withIam(ctx, async (iam, sdk) => {
      ctx.ui.say("Removing policy from temporary role...");
      await unlessGone(() =>
        iam.send(
          new sdk.DeleteRolePolicyCommand({
            RoleName: String(resource.data?.role ?? resource.id),
            PolicyName: resource.id,
          }),
        )
      );
    }),
};

/** Deletes the temporary role (removing its policies and profiles still holding it). */
export const iamRoleHandler: ResourceHandler = {
  delete: (ctx, resource) =>
    withIam(ctx, async (iam, sdk) => {
      ctx.ui.say("Deleting temporary role...");
      const name = resource.id;
      await deleteReleasing(
        () => iam.send(new sdk.DeleteRoleCommand({ RoleName: name })),
        async () => {
          const profiles = await iam.send(
            new sdk.ListInstanceProfilesForRoleCommand({ RoleName: name }),
          );
          for (const p of profiles.InstanceProfiles ?? []) {
            await iam.send(
              new sdk.RemoveRoleFromInstanceProfileCommand({
                InstanceProfileName: p.InstanceProfileName,
                RoleName: name,
              }),
            );
          }
          const policies = await iam.send(new sdk.ListRolePoliciesCommand({ RoleName: name }));
          for (const policy of policies.PolicyNames ?? []) {
            await iam.send(new sdk.DeleteRolePolicyCommand({ RoleName: name, PolicyName: policy }));
          }
        },
      );
    }),
};
