/**
 * cryptoHash: HMAC-SHA256 with the profile's (in hdx: the insurer's) key, lowercase hex. In a
 * Reference.reference only the id is hashed, so `Patient/123` stays a resolvable `Patient/<hash>`.
 */
import { transformReferenceId } from '../reference.js';
import { Op, type MethodFn } from '../types.js';

export const cryptoHash: MethodFn = (node, _rule, state) => {
  if (node.value === null || node.value === '') return 0;
  const input = String(node.value);
  node.value = node.name === 'reference' && node.parent?.type === 'Reference' ? transformReferenceId(input, state.hash) : state.hash(input);
  return Op.CryptoHash;
};
