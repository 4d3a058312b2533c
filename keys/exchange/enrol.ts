/**
 * Enrolment as real parties do it: the party makes its own keys, the operator only certifies them.
 *
 *   party     requestEnrolment(dir)           TLS key + CSR, JOSE keys; writes enrolment-request.json
 *   operator  signEnrolmentRequest(exchange)  checks the CSR, issues the certificate from the exchange CA,
 *                                             adds the party's public JWKs to the registry; writes a response
 *   party     acceptEnrolment(dir, response)  checks and installs the certificate, CA, log key, party.json
 *
 * No private key is ever in a file that leaves the party. Renewal (`renew`) repeats the exchange with a
 * fresh TLS key (kept as tls.key.next until the new certificate is accepted); JOSE keys are rotated apart.
 */
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { JWK } from 'jose';
import { CertificateError, ExchangeExists, InvalidExchange } from '../errors.js';
import { isPartyId, isRole, isTrustDomain, partyUri, type Role } from '../identity.js';
import { generateEncryptionKey, generateSigningKey, type EncryptionAlg, type EncryptionCurve, type SigningAlg } from '../jose-keys.js';
import { createCertificateRequest, issueCertificate, readCertificateRequest, readPeerIdentity } from '../pki.js';
import { loadRegistry, parseRegistry, type RegistryParty } from '../registry.js';
import {
  CERT_VALID_DAYS,
  FILES,
  PRIVATE_FILE,
  PUBLIC_FILE,
  keyValidFrom,
  makePrivateDir,
  paths,
  readJsonFile,
  readText,
  replaceFile,
  withRegistryLock,
  writeJson,
  writeNewFile,
} from './layout.js';
import { publicPemOf } from './materials.js';

export const REQUEST_FILE = 'enrolment-request.json';
const NEXT_KEY = `${FILES.tlsKey}.next`;
const REQUEST_KIND = 'hdx-enrolment-request';
const RESPONSE_KIND = 'hdx-enrolment-response';

export interface EnrolmentRequest {
  kind: typeof REQUEST_KIND;
  v: 1;
  renew: boolean;
  party: { id: string; role: Exclude<Role, 'gateway'>; name: string; uri: string; trustDomain: string };
  csr: string;
  /** Public JWKs to list in the registry (none on renewal). */
  jwks: JWK[];
}

export interface EnrolmentResponse {
  kind: typeof RESPONSE_KIND;
  v: 1;
  uri: string;
  certificate: string;
  ca: string;
  logPublicKey: string;
  gateway: string;
}

export interface RequestEnrolmentOptions {
  trustDomain: string;
  role: Exclude<Role, 'gateway'>;
  id: string;
  name: string;
  signingAlg?: SigningAlg;
  encryptionAlg?: EncryptionAlg;
  encryptionCurve?: EncryptionCurve;
}

/** A new party: makes `<dir>` with its private keys and the request to send to the operator. */
export function requestEnrolment(dir: string, options: RequestEnrolmentOptions): { requestPath: string; uri: string } {
  const root = resolve(dir);
  if (existsSync(root) && readdirSync(root).length > 0) throw new ExchangeExists('the folder is not empty: refusing to overwrite a party’s keys');
  if (!isTrustDomain(options.trustDomain)) throw new TypeError('invalid trust domain');
  if (!isRole(options.role) || (options.role as Role) === 'gateway') throw new TypeError('role must be hospital, insurer or regulator');
  if (!isPartyId(options.id)) throw new TypeError('invalid party id');
  if (typeof options.name !== 'string' || options.name.trim().length === 0 || options.name.length > 200) throw new TypeError('party name must be 1 to 200 characters');
  const uri = partyUri(options.trustDomain, options.role, options.id);
  mkdirSync(dirname(root), { recursive: true });
  if (!existsSync(root)) makePrivateDir(root);

  const tlsKey = rsaKeyPem();
  const signing = generateSigningKey(options.signingAlg ?? 'ES256');
  const jwks = [signing.publicJwk];
  writeNewFile(join(root, FILES.tlsKey), tlsKey, PRIVATE_FILE);
  writeJson(join(root, FILES.signing), signing.privateJwk, PRIVATE_FILE);
  if (options.role === 'insurer') {
    const alg = options.encryptionAlg ?? 'ECDH-ES+A256KW';
    const enc = generateEncryptionKey(alg, alg === 'RSA-OAEP-256' ? undefined : options.encryptionCurve);
    writeJson(join(root, FILES.encryption), enc.privateJwk, PRIVATE_FILE);
    jwks.push(enc.publicJwk);
  }
  const party = { id: options.id, role: options.role, name: options.name, uri, trustDomain: options.trustDomain };
  return { requestPath: writeRequest(root, party, tlsKey, jwks), uri };
}

/** An enrolled party renewing its certificate: a fresh TLS key (tls.key.next) and a request for it. */
export function requestRenewal(dir: string): { requestPath: string; uri: string; expires: string } {
  const root = resolve(dir);
  const party = readJsonFile(join(root, FILES.partyJson), 'party.json') as EnrolmentRequest['party'];
  const current = new X509Certificate(readText(join(root, FILES.tlsCert), 'tls.crt'));
  const uri = readPeerIdentity({ subjectaltname: current.subjectAltName ?? '' });
  if (uri !== party.uri) throw new InvalidExchange('tls.crt does not name the party in party.json');
  const tlsKey = rsaKeyPem();
  replaceFile(join(root, NEXT_KEY), tlsKey, PRIVATE_FILE);
  const requestPath = writeRequest(root, { id: party.id, role: party.role, name: party.name, uri, trustDomain: party.trustDomain }, tlsKey, null);
  return { requestPath, uri, expires: new Date(current.validTo).toISOString() };
}

/** At the operator: certifies a party's request and, for a new party, lists its public keys. */
export async function signEnrolmentRequest(
  exchangeDir: string,
  requestPath: string,
  responsePath: string,
  options: { certValidDays?: number } = {},
): Promise<{ uri: string; renew: boolean; notAfter: string }> {
  const root = resolve(exchangeDir);
  const request = parseRequest(readJsonFile(requestPath, 'the enrolment request'));
  const csr = readCertificateRequest(request.csr);
  return withRegistryLock(root, () => {
    const registry = loadRegistry(paths.registry(root));
    const uri = partyUri(registry.trustDomain, request.party.role, request.party.id);
    if (csr.uri !== uri || request.party.uri !== uri) throw new CertificateError(`the request must name ${uri} (trust domain ${registry.trustDomain})`);
    const existing = registry.parties.find((p) => p.id === request.party.id);
    if (request.renew && existing?.uri !== uri) throw new InvalidExchange('renewal for a party the registry does not list');
    if (!request.renew && existing) throw new ExchangeExists('a party with that id is already enrolled (renew with --renew)');
    let next: typeof registry | undefined;
    if (!request.renew) {
      const uses = request.jwks.map((k) => k.use);
      if (!uses.includes('sig')) throw new InvalidExchange('the request lacks a public signing key');
      if (request.party.role === 'insurer' && !uses.includes('enc')) throw new InvalidExchange('an insurer’s request needs a public encryption key');
      const validFrom = keyValidFrom(new Date());
      const entry: RegistryParty = { id: request.party.id, role: request.party.role, name: request.party.name, uri, keys: request.jwks.map((jwk) => ({ jwk, validFrom })) };
      // parseRegistry checks every key is public, fits its alg, and has a unique kid.
      next = parseRegistry({ ...registry, parties: [...registry.parties, entry] });
    }
    const ca = { certPem: readText(join(paths.caDir(root), FILES.caCert), 'ca/ca.crt'), keyPem: readText(join(paths.caDir(root), FILES.caKey), 'ca/ca.key') };
    const { certPem } = issueCertificate(ca, {
      commonName: request.party.id,
      uri,
      usage: 'client',
      validDays: options.certValidDays ?? CERT_VALID_DAYS,
      publicKeyPem: csr.publicKeyPem,
    });
    const gatewayJson = readJsonFile(join(paths.gatewayDir(root), FILES.gatewayJson), 'gateway/gateway.json') as { address?: string };
    const response: EnrolmentResponse = {
      kind: RESPONSE_KIND,
      v: 1,
      uri,
      certificate: certPem,
      ca: ca.certPem,
      logPublicKey: publicPemOf(readText(join(paths.gatewayDir(root), FILES.logKey), 'gateway/log.key')),
      gateway: gatewayJson.address ?? 'localhost:7443',
    };
    writeJson(responsePath, response);
    // Listed only once the certificate is issued and the response written: a failure leaves no half-enrolled party.
    if (next) replaceFile(paths.registry(root), `${JSON.stringify(next, null, 2)}\n`, PUBLIC_FILE);
    return { uri, renew: request.renew, notAfter: new Date(new X509Certificate(certPem).validTo).toISOString() };
  });
}

/** Back at the party: checks the operator's response against its own request and key, then installs it. */
export function acceptEnrolment(dir: string, responsePath: string): { uri: string; notAfter: string; caFingerprint: string } {
  const root = resolve(dir);
  const request = parseRequest(readJsonFile(join(root, REQUEST_FILE), REQUEST_FILE));
  const response = parseResponse(readJsonFile(responsePath, 'the enrolment response'));
  const keyPath = join(root, request.renew ? NEXT_KEY : FILES.tlsKey);
  const key = createPrivateKey(readText(keyPath, request.renew ? NEXT_KEY : FILES.tlsKey));
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(response.certificate);
    ca = new X509Certificate(response.ca);
  } catch (cause) {
    throw new CertificateError('the response does not hold PEM certificates', { cause });
  }
  if (!cert.verify(ca.publicKey)) throw new CertificateError('the certificate is not issued by the CA in the response');
  if (!cert.checkPrivateKey(key)) throw new CertificateError('the certificate is not for this party’s key (was it made for another request?)');
  if (readPeerIdentity({ subjectaltname: cert.subjectAltName ?? '' }) !== request.party.uri) throw new CertificateError('the certificate names another party');
  if (request.renew) {
    const currentCa = readText(join(root, FILES.caCert), FILES.caCert);
    if (new X509Certificate(currentCa).fingerprint256 !== ca.fingerprint256) throw new CertificateError('the renewed certificate comes from another CA');
    replaceFile(join(root, FILES.tlsCert), response.certificate, PUBLIC_FILE);
    renameSync(keyPath, join(root, FILES.tlsKey));
  } else {
    createPublicKey(response.logPublicKey); // must be a key before it is installed
    writeNewFile(join(root, FILES.tlsCert), response.certificate, PUBLIC_FILE);
    writeNewFile(join(root, FILES.caCert), response.ca, PUBLIC_FILE);
    writeNewFile(join(root, FILES.logPub), response.logPublicKey, PUBLIC_FILE);
    const { id, role, name, uri, trustDomain } = request.party;
    writeJson(join(root, FILES.partyJson), { id, role, name, uri, trustDomain, gateway: response.gateway });
  }
  return { uri: request.party.uri, notAfter: new Date(cert.validTo).toISOString(), caFingerprint: ca.fingerprint256 };
}

/** Writes `enrolment-request.json` (replacing an earlier one); `jwks` null for a renewal. */
function writeRequest(root: string, party: EnrolmentRequest['party'], tlsKey: string, jwks: JWK[] | null): string {
  const request: EnrolmentRequest = {
    kind: REQUEST_KIND,
    v: 1,
    renew: jwks === null,
    party,
    csr: createCertificateRequest(tlsKey, { commonName: party.id, uri: party.uri }),
    jwks: jwks ?? [],
  };
  const path = join(root, REQUEST_FILE);
  replaceFile(path, `${JSON.stringify(request, null, 2)}\n`, PUBLIC_FILE);
  return path;
}

function rsaKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
}

function parseRequest(value: unknown): EnrolmentRequest {
  const r = value as Partial<EnrolmentRequest> | null;
  const p = r?.party;
  if (r?.kind !== REQUEST_KIND || r.v !== 1 || typeof r.renew !== 'boolean' || typeof r.csr !== 'string' || !Array.isArray(r.jwks)) {
    throw new InvalidExchange('not an hdx enrolment request (kind hdx-enrolment-request, v 1)');
  }
  if (!p || !isPartyId(p.id) || !isRole(p.role) || (p.role as Role) === 'gateway' || typeof p.name !== 'string' || typeof p.uri !== 'string' || !isTrustDomain(p.trustDomain)) {
    throw new InvalidExchange('the enrolment request names no valid party');
  }
  return r as EnrolmentRequest;
}

function parseResponse(value: unknown): EnrolmentResponse {
  const r = value as Partial<EnrolmentResponse> | null;
  if (r?.kind !== RESPONSE_KIND || r.v !== 1 || typeof r.certificate !== 'string' || typeof r.ca !== 'string' || typeof r.logPublicKey !== 'string' || typeof r.gateway !== 'string') {
    throw new InvalidExchange('not an hdx enrolment response (kind hdx-enrolment-response, v 1)');
  }
  return r as EnrolmentResponse;
}
