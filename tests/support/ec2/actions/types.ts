/** The shape every action handler has. */
import type { Ec2Emulator, RequestContext } from "../emulator.ts";
import type { QueryParams } from "../query.ts";
import type { XmlValue } from "../xml.ts";

/** Response members of an action (rendered inside `<{Action}Response>`). */
export type Members = { [name: string]: XmlValue };

/** Handles one EC2 action. */
export type ActionHandler = (
  emu: Ec2Emulator,
  params: QueryParams,
  ctx: RequestContext,
) => Members | Promise<Members>;
