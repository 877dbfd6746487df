/**
 * EC2 API errors: a code from the EC2 error-code reference and the HTTP status
 * the real service answers with (400 for client errors, 500/503 for server
 * faults, 503 for throttling).
 */

/** An error the emulator answers with instead of a result. */
export class Ec2Error extends Error {
  /** EC2 error code, e.g. `InvalidInstanceID.NotFound`. */
  readonly code: string;
  /** HTTP status of the error response. */
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = "Ec2Error";
    this.code = code;
    this.status = status;
  }
}

/** `MissingParameter` for a required request parameter that was not sent. */
export function missingParameter(name: string): Ec2Error {
  return new Ec2Error(
    "MissingParameter",
    `The request must contain the parameter ${name}`,
  );
}

/** `InvalidParameterValue` naming the parameter and what was wrong. */
export function invalidParameter(name: string, value: string, why: string): Ec2Error {
  return new Ec2Error(
    "InvalidParameterValue",
    `Value (${value}) for parameter ${name} is invalid. ${why}`,
  );
}
