/**
 * An IAM Query-API emulator (roles, inline policies, instance profiles) for
 * tests. It is not started on its own: the EC2 emulator serves it on its
 * port, so `AWS_ENDPOINT_URL_IAM=<ec2 endpoint>` points the SDK at it, and
 * its roles and instance profiles are part of the EC2 emulator's leak ledger.
 */
export { IamStore } from "./store.ts";
export type { InstanceProfile, Role } from "./model.ts";
