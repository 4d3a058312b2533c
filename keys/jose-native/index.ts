/** A small strict JOSE layer over `node:crypto` for the fixed algorithms hdx uses (docs/decisions.md). */
export { decodeBase64url, encodeBase64url, isCanonicalBase64url } from './base64url.js';
export { keyFits, privateKeyOf, publicKeyOf } from './key-objects.js';
export { JWS_ALGS, decodeCompactJws, isJwsAlg, signCompact, verifySignature, type DecodedJws, type JwsAlg, type JwsHeader } from './jws.js';
export {
  a256gcmDecrypt,
  a256gcmEncrypt,
  aesKeyUnwrap,
  aesKeyWrap,
  concatKdf,
  decodeCompactJwe,
  decryptCompact,
  encryptCompact,
  isKeyManagementAlg,
  type DecodedJwe,
  type JweHeader,
  type KeyManagementAlg,
} from './jwe.js';
