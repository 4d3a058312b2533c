/**
 * The engine's errors. Both are safe to show and log: they name rules, parameters and element
 * locations, never a value from a record (the FHIRPath engine's own messages quote values, so they are
 * never passed on, not even as `cause`).
 */
import { HdxError, InvalidInput } from '../../errors.js';

/** A profile the engine cannot honour; refused at load time, naming the rule or parameter. */
export class InvalidProfile extends InvalidInput {}

/** A rule failed on a record (e.g. a generalize case that does not apply to the value's type). */
export class DeidProcessingError extends HdxError {}
