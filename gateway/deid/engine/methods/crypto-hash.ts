/**
 * cryptoHash: HMAC-SHA256 with the profile's (in hdx: the insurer's) key, lowercase hex. In a
 * Reference.reference only the id is hashed, so `Patient/123` stays a resolvable `Patient/<hash>`.
 */
import { createHmac } from 'node:crypto';
import { transformReferenceId } from '../reference.js';
import { Op, type MethodFn, type RunState } from '../types.js';

export function hmacHex(key: Buffer, input: string): string {
  return createHmac('sha256', key).update(input, 'utf8').digest('hex');
}

function hashIn(state: RunState): (text: string) => string {
  return (text) => {
    let hash = state.hashes.get(text);
    if (hash === undefined) {
      hash = hmacHex(state.cryptoHashKeyBytes, text);
      state.hashes.set(text, hash);
    }
    return hash;
  };
}

export const cryptoHash: MethodFn = (node, _rule, state) => {
  if (node.value === null || node.value === '') return 0;
  const input = String(node.value);
  const hash = hashIn(state);
  node.value = node.name === 'reference' && node.parent?.type === 'Reference' ? transformReferenceId(input, hash) : hash(input);
  return Op.CryptoHash;
};
