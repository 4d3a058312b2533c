/**
 * The project's one error base. Every module (gateway, keys, transparency, compliance) derives its errors
 * from it with its own closed union of codes, listed as a constant so `gateway/transport/status.ts` can
 * map each code to a gRPC status and a test can enumerate them all. Messages are safe to show and log by
 * contract: they name the field or the check, never a value. The underlying error, if any, is `cause`.
 */
export class CodedError<C extends string = string> extends Error {
  /** The code a subclass stands for; `code` on an instance may narrow it further (VerificationError). */
  static code: string;
  code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A class of a module's taxonomy: its static `code` is the code its instances carry by default. */
export type CodedErrorClass<C extends string> = (abstract new (...args: never[]) => CodedError<C>) & { code: C };
