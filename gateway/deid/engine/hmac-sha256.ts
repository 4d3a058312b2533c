/**
 * HMAC-SHA256 for many short messages under one key, as cryptoHash needs (every id and reference of a
 * record). With the key's inner and outer pads compressed once, a message of up to 55 bytes costs two
 * SHA-256 compressions in plain JavaScript — cheaper than a node:crypto Hmac object per value, which
 * dominated the engine's profile. ASCII messages that fit one block (ids) are written straight into the
 * message schedule, and the hex is written natively (a flat string, not a rope of 32 pieces). Output is
 * identical to `createHmac('sha256', key)…digest('hex')` (checked against node:crypto in the tests).
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const BLOCK = 64;

/** One SHA-256 compression of the block already in W[0 … 16) into state `h`. */
function compressBlock(h: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, k = h[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + s1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + k) | 0;
}

/** One SHA-256 compression of `bytes[offset … offset+64)` into state `h`. */
function compress(h: Int32Array, bytes: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    W[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
  }
  compressBlock(h);
}

/** Pads `length` message bytes already in `buffer` (after `prefixBytes` hashed before) and returns the padded size. */
function pad(buffer: Uint8Array, length: number, prefixBytes: number): number {
  let n = length;
  buffer[n++] = 0x80;
  while (n % BLOCK !== 56) buffer[n++] = 0;
  const bits = (prefixBytes + length) * 8;
  buffer[n++] = 0;
  buffer[n++] = 0;
  buffer[n++] = Math.floor(bits / 2 ** 40) & 0xff;
  buffer[n++] = Math.floor(bits / 2 ** 32) & 0xff;
  buffer[n++] = (bits >>> 24) & 0xff;
  buffer[n++] = (bits >>> 16) & 0xff;
  buffer[n++] = (bits >>> 8) & 0xff;
  buffer[n++] = bits & 0xff;
  return n;
}

export type HmacHex = (message: string) => string;

/** An HMAC-SHA256 function for `key`, returning lowercase hex. */
export function hmacSha256Hex(key: Uint8Array): HmacHex {
  let block = new Uint8Array(BLOCK);
  if (key.length > BLOCK) {
    // Keys longer than a block are hashed first (RFC 2104).
    const state = new Int32Array(IV);
    const buffer = new Uint8Array(key.length + BLOCK + 8);
    buffer.set(key);
    const padded = pad(buffer, key.length, 0);
    for (let offset = 0; offset < padded; offset += BLOCK) compress(state, buffer, offset);
    block = new Uint8Array(BLOCK);
    for (let i = 0; i < 8; i++) {
      block[i * 4] = state[i]! >>> 24;
      block[i * 4 + 1] = (state[i]! >>> 16) & 0xff;
      block[i * 4 + 2] = (state[i]! >>> 8) & 0xff;
      block[i * 4 + 3] = state[i]! & 0xff;
    }
  } else {
    block.set(key);
  }
  const innerPad = new Uint8Array(BLOCK);
  const outerPad = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    innerPad[i] = block[i]! ^ 0x36;
    outerPad[i] = block[i]! ^ 0x5c;
  }
  const inner = new Int32Array(IV);
  compress(inner, innerPad, 0);
  const outer = new Int32Array(IV);
  compress(outer, outerPad, 0);
  const state = new Int32Array(8);
  const encoder = new TextEncoder();
  let buffer = new Uint8Array(4 * BLOCK);
  const digest = Buffer.alloc(32);

  /** The general path: any length, any characters (UTF-8). */
  const bytewise = (message: string): void => {
    // UTF-8 needs at most 3 bytes per UTF-16 unit; leave room for padding.
    if (buffer.length < message.length * 3 + BLOCK + 8) buffer = new Uint8Array(message.length * 3 + BLOCK + 8);
    const { written } = encoder.encodeInto(message, buffer);
    state.set(inner);
    const padded = pad(buffer, written, BLOCK);
    for (let offset = 0; offset < padded; offset += BLOCK) compress(state, buffer, offset);
  };

  /** ids: ASCII and at most 55 characters, one block, written straight into the message schedule. */
  const oneBlock = (message: string): boolean => {
    const length = message.length;
    if (length > 55) return false;
    for (let i = 0; i < 16; i++) W[i] = 0;
    for (let i = 0; i < length; i++) {
      const code = message.charCodeAt(i);
      if (code > 0x7f) return false;
      W[i >> 2] = W[i >> 2]! | (code << (24 - 8 * (i & 3)));
    }
    W[length >> 2] = W[length >> 2]! | (0x80 << (24 - 8 * (length & 3)));
    W[15] = (BLOCK + length) * 8;
    state.set(inner);
    compressBlock(state);
    return true;
  };

  return (message: string): string => {
    if (!oneBlock(message)) bytewise(message);
    // The outer hash: the inner digest, padded, in one block.
    for (let i = 0; i < 8; i++) W[i] = state[i]!;
    W[8] = 0x80000000;
    for (let i = 9; i < 15; i++) W[i] = 0;
    W[15] = (BLOCK + 32) * 8;
    state.set(outer);
    compressBlock(state);
    for (let i = 0; i < 8; i++) {
      const v = state[i]!;
      digest[i * 4] = v >>> 24;
      digest[i * 4 + 1] = (v >>> 16) & 0xff;
      digest[i * 4 + 2] = (v >>> 8) & 0xff;
      digest[i * 4 + 3] = v & 0xff;
    }
    // Native hex: one flat string (a concatenation would be a rope of 32 pieces).
    return digest.toString('hex');
  };
}
