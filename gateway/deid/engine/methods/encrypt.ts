/**
 * encrypt: AES-CBC (PKCS#7) with the UTF-8 bytes of the key (16, 24 or 32 bytes) and a random IV; the
 * value becomes base64(IV ‖ ciphertext), which the key holder can reverse.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Op, type MethodFn } from '../types.js';

const IV_BYTES = 16;

function algorithm(key: Buffer): string {
  return `aes-${key.length * 8}-cbc`;
}

export function encryptText(plain: string, key: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(algorithm(key), key, iv);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

export function decryptText(encoded: string, key: Buffer): string {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length < IV_BYTES) throw new TypeError('ciphertext shorter than its IV');
  const decipher = createDecipheriv(algorithm(key), key, bytes.subarray(0, IV_BYTES));
  return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES)), decipher.final()]).toString('utf8');
}

export const encrypt: MethodFn = (node, _rule, state) => {
  if (node.value === null || node.value === '' || state.encryptKeyBytes === undefined) return 0;
  node.value = encryptText(String(node.value), state.encryptKeyBytes);
  return Op.Encrypt;
};
