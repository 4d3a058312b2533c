export { canonicalJson, canonicalBytes, sha256, digestOf, digestOfJson } from './canonical.js';
export {
  KeysError,
  InvalidPartyUri,
  InvalidRegistry,
  InvalidKey,
  UnknownParty,
  NoValidKey,
  CertificateError,
  ExchangeExists,
  InvalidExchange,
  ExchangeBusy,
  VerificationError,
} from './errors.js';
export type { KeysErrorCode, VerificationErrorCode } from './errors.js';
export { ROLES, isRole, isPartyId, isTrustDomain, partyUri, parsePartyUri, parsePartyUriOf } from './identity.js';
export type { Role, PartyRef } from './identity.js';
export { createCa, issueCertificate, readPeerIdentity } from './pki.js';
export type { CertificateAuthority, CreateCaOptions, CertificateUsage, IssueCertificateOptions, IssuedCertificate } from './pki.js';
export {
  SIGNING_ALGS,
  ENCRYPTION_ALGS,
  generateSigningKey,
  generateEncryptionKey,
  publicJwkOf,
  jwkThumbprint,
  hasPrivateMembers,
  assertPublicJwk,
  assertPrivateJwk,
  assertKeyFitsAlg,
  isSigningAlg,
  isEncryptionAlg,
} from './jose-keys.js';
export type { SigningAlg, EncryptionAlg, EncryptionCurve, KeyUse, JwkPair } from './jose-keys.js';
export { parseRegistry, loadRegistry, PartyDirectory } from './registry.js';
export type { Registry, RegistryParty, RegistryKey } from './registry.js';
export * from './exchange.js';
export * from './formats/index.js';
