import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOfJson } from '../../keys/canonical.js';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and formats numbers per ECMAScript', () => {
    expect(canonicalJson({ b: 1, a: [1e21, 0.1, -0], '\u20ac': 'x', '\r': 'y' })).toBe(
      '{"\\r":"y","a":[1e+21,0.1,0],"b":1,"€":"x"}',
    );
  });
  it('gives the same digest whatever the key order', () => {
    expect(digestOfJson({ x: 1, y: { b: 2, a: 1 } })).toBe(digestOfJson({ y: { a: 1, b: 2 }, x: 1 }));
    expect(digestOfJson({ x: 1 })).not.toBe(digestOfJson({ x: 2 }));
  });
  it('refuses values without a JSON form', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
