/**
 * The exchange's X.509 PKI (node-forge builds and signs the certificates; Node generates the RSA keys,
 * because forge's pure-JS key generation is far too slow). One CA issues every party an mTLS
 * certificate whose SAN URI is the party's identity (see `identity.ts`). The certificates are plain
 * RFC 5280 ones that Node's TLS and @grpc/grpc-js accept:
 *
 * - CA: basicConstraints cA=TRUE pathLen=0 (critical), keyUsage keyCertSign+cRLSign (critical), SKI/AKI.
 * - leaf: basicConstraints cA=FALSE (critical), keyUsage digitalSignature+keyEncipherment (critical),
 *   extKeyUsage serverAuth and/or clientAuth, subjectAltName (URI, DNS, IP), SKI, AKI = the CA's SKI.
 * - random positive 128-bit serial numbers, SHA-256 signatures, notBefore five minutes in the past.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import forge from 'node-forge';
import { CertificateError } from './errors.js';
import { isTrustDomain, parsePartyUri } from './identity.js';

const RSA_BITS = 2048;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_VALID_DAYS = 100 * 366;
const DNS_NAME = /^(?=.{1,253}$)(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

// GeneralName tags (RFC 5280 §4.2.1.6).
const SAN_DNS = 2;
const SAN_URI = 6;
const SAN_IP = 7;

/** A CA as PEM text: the certificate and its PKCS#8 private key. */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface CreateCaOptions {
  trustDomain: string;
  validDays: number;
  /** Defaults to `hdx <trustDomain> CA`. */
  commonName?: string;
}

export type CertificateUsage = 'server' | 'client' | 'both';

export interface IssueCertificateOptions {
  commonName: string;
  /** The party URI to put in the SAN (a `spiffe://` party URI). */
  uri?: string;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  usage: CertificateUsage;
  /** Counted from now, or from `notBefore` when given; clamped to the CA's own expiry. */
  validDays: number;
  /** When the certificate becomes valid; default five minutes ago (clock skew). */
  notBefore?: Date;
  /**
   * Certify this key (SPKI PEM, e.g. from a party's CSR) instead of making a new one; the result's
   * `keyPem` is then empty: the private key stays where it was made.
   */
  publicKeyPem?: string;
}

/** An issued certificate and its PKCS#8 private key, both PEM. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export function createCa(options: CreateCaOptions): CertificateAuthority {
  if (!isTrustDomain(options?.trustDomain)) throw new TypeError('invalid trust domain');
  const validDays = checkValidDays(options.validDays);
  const commonName = options.commonName ?? `hdx ${options.trustDomain} CA`;
  checkCommonName(commonName);

  const { keyPem, publicKey, privateKey } = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialHex();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now + validDays * DAY_MS);
  const name = subject(commonName);
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: true },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

export function issueCertificate(ca: CertificateAuthority, options: IssueCertificateOptions): IssuedCertificate {
  const { caCert, caKey } = readCa(ca);
  checkCommonName(options?.commonName);
  const validDays = checkValidDays(options.validDays);
  const usage = options.usage;
  if (usage !== 'server' && usage !== 'client' && usage !== 'both') throw new TypeError('invalid certificate usage');

  const altNames: { type: number; value?: string; ip?: string }[] = [];
  if (options.uri !== undefined) {
    parsePartyUri(options.uri); // throws on anything but a party URI
    altNames.push({ type: SAN_URI, value: options.uri });
  }
  for (const dns of options.dnsNames ?? []) {
    if (typeof dns !== 'string' || !DNS_NAME.test(dns)) throw new TypeError('invalid DNS name');
    altNames.push({ type: SAN_DNS, value: dns.toLowerCase() });
  }
  for (const ip of options.ipAddresses ?? []) {
    if (typeof ip !== 'string' || isIP(ip) === 0) throw new TypeError('invalid IP address');
    altNames.push({ type: SAN_IP, ip });
  }
  if (altNames.length === 0) throw new TypeError('a certificate needs at least one subject alternative name');

  const start = options.notBefore === undefined ? Date.now() : options.notBefore.getTime();
  if (!Number.isFinite(start)) throw new TypeError('invalid notBefore');
  const notBefore = options.notBefore === undefined ? start - CLOCK_SKEW_MS : start;

  const { keyPem, publicKey } = options.publicKeyPem === undefined ? rsaKeyPair() : { keyPem: '', publicKey: rsaPublicKey(options.publicKeyPem) };
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(notBefore);
  cert.validity.notAfter = new Date(Math.min(start + validDays * DAY_MS, caCert.validity.notAfter.getTime()));
  cert.setSubject(subject(options.commonName));
  cert.setIssuer(issuerOf(caCert));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    {
      name: 'extKeyUsage',
      serverAuth: usage === 'server' || usage === 'both',
      clientAuth: usage === 'client' || usage === 'both',
    },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: subjectKeyIdentifierOf(caCert) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/**
 * The identity of a TLS peer: the single `URI:` entry of the certificate's subjectAltName, as Node's
 * `getPeerCertificate()` and grpc-js's `getAuthContext().sslPeerCertificate` present it. It must be a
 * party URI. Throws `CertificateError` if there is no certificate, no URI, several URIs, or a URI that
 * is not a party URI.
 */
export function readPeerIdentity(cert: { subjectaltname?: string } | PeerCertificate | null | undefined): string {
  const san = cert?.subjectaltname;
  if (typeof san !== 'string' || san.length === 0) {
    throw new CertificateError('peer certificate has no subject alternative name');
  }
  let entries: { type: string; value: string }[];
  try {
    entries = parseSubjectAltName(san);
  } catch (cause) {
    throw new CertificateError('peer certificate has a malformed subject alternative name', { cause });
  }
  const uris = entries.filter((e) => e.type === 'URI');
  if (uris.length !== 1) throw new CertificateError('peer certificate must carry exactly one URI name');
  const uri = uris[0]!.value;
  try {
    parsePartyUri(uri);
  } catch (cause) {
    throw new CertificateError('peer certificate URI is not a party URI', { cause });
  }
  return uri;
}

/**
 * Node's `subjectaltname` string: `TYPE:value` entries separated by `, `, where a value containing
 * special characters is written as a JSON string literal (since the fix for CVE-2021-44532).
 */
function parseSubjectAltName(text: string): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) throw new Error('entry without a type');
    const type = text.slice(i, colon);
    i = colon + 1;
    let value: string;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new Error('unterminated quoted value');
      value = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
      if (i < text.length && !text.startsWith(', ', i)) throw new Error('garbage after quoted value');
    } else {
      const end = text.indexOf(', ', i);
      value = text.slice(i, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    }
    out.push({ type, value });
    if (i < text.length) i += 2;
  }
  return out;
}

/** A party's certificate request: PKCS#10, its key's proof of possession, the party URI as the SAN. */
export interface CertificateRequestInfo {
  commonName: string;
  uri: string;
  /** SPKI PEM of the requested key. */
  publicKeyPem: string;
}

/** A PKCS#10 request for `uri`, signed with the requester's RSA private key (PKCS#8 PEM). */
export function createCertificateRequest(keyPem: string, options: { commonName: string; uri: string }): string {
  checkCommonName(options?.commonName);
  parsePartyUri(options.uri);
  const privateKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  csr.setSubject(subject(options.commonName));
  csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: [{ type: SAN_URI, value: options.uri }] }] }]);
  csr.sign(privateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/**
 * Reads a certificate request from a party (untrusted): it must be a PEM PKCS#10 request whose signature
 * verifies (the requester holds the key), with an RSA key of at least 2048 bits and exactly one party URI.
 */
export function readCertificateRequest(pem: string): CertificateRequestInfo {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(pem);
  } catch (cause) {
    throw new CertificateError('the certificate request is not a PEM PKCS#10 request with an RSA key', { cause });
  }
  if (!csr.verify()) throw new CertificateError('the certificate request signature does not verify');
  const key = csr.publicKey as forge.pki.rsa.PublicKey;
  if (!key?.n || key.n.bitLength() < RSA_BITS) throw new CertificateError(`the certificate request key must be RSA of at least ${RSA_BITS} bits`);
  const request = csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: { name: string; altNames?: { type: number; value: string }[] }[] } | null;
  const uris = (request?.extensions?.find((e) => e.name === 'subjectAltName')?.altNames ?? []).filter((n) => n.type === SAN_URI);
  if (uris.length !== 1) throw new CertificateError('the certificate request must name exactly one party URI');
  const uri = uris[0]!.value;
  try {
    parsePartyUri(uri);
  } catch (cause) {
    throw new CertificateError('the certificate request URI is not a party URI', { cause });
  }
  const cn = csr.subject.getField('CN') as { value?: string } | null;
  const commonName = typeof cn?.value === 'string' ? forge.util.decodeUtf8(cn.value) : '';
  checkCommonName(commonName);
  return { commonName, uri, publicKeyPem: forge.pki.publicKeyToPem(key) };
}

function rsaPublicKey(pem: string): forge.pki.rsa.PublicKey {
  const key = forge.pki.publicKeyFromPem(pem) as forge.pki.rsa.PublicKey;
  if (!key?.n || key.n.bitLength() < RSA_BITS) throw new TypeError(`the key to certify must be RSA of at least ${RSA_BITS} bits`);
  return key;
}

function rsaKeyPair(): { keyPem: string; publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: RSA_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    keyPem: pair.privateKey,
    publicKey: forge.pki.publicKeyFromPem(pair.publicKey) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(pair.privateKey) as forge.pki.rsa.PrivateKey,
  };
}

function readCa(ca: CertificateAuthority): { caCert: forge.pki.Certificate; caKey: forge.pki.rsa.PrivateKey } {
  if (typeof ca?.certPem !== 'string' || typeof ca.keyPem !== 'string') throw new TypeError('invalid CA');
  let caCert: forge.pki.Certificate;
  let caKey: forge.pki.rsa.PrivateKey;
  try {
    caCert = forge.pki.certificateFromPem(ca.certPem);
    caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  } catch (cause) {
    throw new TypeError('CA certificate or key is not a PEM RSA certificate/key', { cause });
  }
  const caPublic = caCert.publicKey as forge.pki.rsa.PublicKey;
  if (!caPublic.n || caPublic.n.compareTo(caKey.n) !== 0) throw new TypeError('CA key does not match CA certificate');
  const bc = caCert.getExtension('basicConstraints') as { cA?: boolean } | undefined;
  if (bc?.cA !== true) throw new TypeError('CA certificate is not a CA');
  return { caCert, caKey };
}

/** The CA's subject as attributes to re-encode: forge parses UTF8String values as raw UTF-8 bytes. */
function issuerOf(caCert: forge.pki.Certificate): forge.pki.CertificateField[] {
  return caCert.subject.attributes.map((attr) =>
    (attr.valueTagClass as unknown) === forge.asn1.Type.UTF8 && typeof attr.value === 'string'
      ? { ...attr, value: forge.util.decodeUtf8(attr.value) }
      : attr,
  );
}

function subjectKeyIdentifierOf(cert: forge.pki.Certificate): string {
  const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return typeof ski?.subjectKeyIdentifier === 'string'
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : cert.generateSubjectKeyIdentifier().getBytes();
}

function subject(commonName: string): forge.pki.CertificateField[] {
  // UTF8String, so that a non-ASCII common name survives.
  return [
    { shortName: 'CN', value: commonName, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
    { shortName: 'O', value: 'hdx', valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  ];
}

/** 16 random bytes, the top bit cleared (positive) and the next one set (no leading zero byte). */
function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function checkValidDays(days: unknown): number {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_VALID_DAYS) {
    throw new TypeError('validDays must be a positive integer');
  }
  return days;
}

function checkCommonName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64) {
    throw new TypeError('commonName must be a string of 1 to 64 characters');
  }
}
