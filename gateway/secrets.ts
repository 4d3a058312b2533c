/**
 * Per-purpose keys derived from the gateway's master secret with HKDF-SHA256 (RFC 5869), so one
 * secret is backed up and each use has its own key: the patient index key, one pseudonym key and one
 * set of de-identification keys per insurer (two insurers can never link their records), and the
 * at-rest key for the few sensitive fields the gateway must keep (the policy number).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const SALT = Buffer.from('hdx/v1', 'utf8');

export class GatewaySecrets {
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly master: Buffer) {
    if (master.length < 32) throw new TypeError('master secret must be at least 32 bytes');
  }

  private key(info: string): Buffer {
    let key = this.cache.get(info);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.master, SALT, info, 32));
      this.cache.set(info, key);
    }
    return key;
  }

  /** HMAC(index key, normalised resident ID): the only form in which a patient's ID is kept. */
  patientKey(normalisedId: string): Buffer {
    return createHmac('sha256', this.key('patient-index')).update(normalisedId, 'utf8').digest();
  }

  /** The per-insurer pseudonym of a patient: 128 bits, hex (a valid FHIR id). */
  pseudonym(insurerId: string, patientKey: Buffer): string {
    return createHmac('sha256', this.key(`pseudonym/${insurerId}`)).update(patientKey).digest('hex').slice(0, 32);
  }

  /** Keys the de-identification profile uses (cryptoHash, dateShift, encrypt), per insurer. */
  deidKeys(insurerId: string): { cryptoHashKey: string; dateShiftKey: string; encryptKey: string } {
    return {
      cryptoHashKey: this.key(`deid/${insurerId}/crypto-hash`).toString('base64url'),
      dateShiftKey: this.key(`deid/${insurerId}/date-shift`).toString('base64url'),
      // AES-256 key, as the anonymizer's encrypt method expects: 32 bytes, base64.
      encryptKey: this.key(`deid/${insurerId}/encrypt`).toString('base64'),
    };
  }

  /** Seals a small sensitive value at rest (AES-256-GCM, random nonce). */
  sealAtRest(plaintext: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key('at-rest'), iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  openAtRest(sealed: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key('at-rest'), sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  }
}
