/**
 * ipvsadm's way out of argument parsing: fail() prints and exits. Here it
 * throws a Stop that parseIpvsadmArgs turns into an ArgsError.
 */
import type { ArgsError } from './command.js';

/** Thrown inside the parser, turned into an ArgsError at the top. */
export class Stop {
  constructor(readonly error: ArgsError) {}
}

/** fail(2, ...): message + "\n" on stderr, exit 2. */
export function fail(message: string): never {
  throw new Stop({ message, stderr: `${message}\n`, status: 2, exits: true });
}
