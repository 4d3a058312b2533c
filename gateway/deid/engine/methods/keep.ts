/** keep: the node and everything below it are left as they are, and later rules no longer touch them. */
import type { MethodFn } from '../types.js';

export const keep: MethodFn = () => 0;
