import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../synthetic/random.js';

const draws = (seed: number, count = 50) => {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => rng.next());
};

describe('SeededRandom', () => {
  it('repeats its stream for a seed and differs between neighbouring seeds', () => {
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    expect(draws(0)).not.toEqual(draws(1));
  });
  it('draws in [0, 1) and spreads over the range', () => {
    const values = draws(123, 10_000);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
  it('keeps int() within its inclusive bounds and reaches both ends', () => {
    const rng = new SeededRandom(5);
    const seen = new Set(Array.from({ length: 2_000 }, () => rng.int(3, 6)));
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });
  it('samples distinct items and respects weights', () => {
    const rng = new SeededRandom(9);
    const sample = rng.sample([1, 2, 3, 4, 5], 3);
    expect(new Set(sample).size).toBe(3);
    const picks = Array.from({ length: 5_000 }, () => rng.weighted([['rare', 1], ['common', 9]] as const));
    const rare = picks.filter((p) => p === 'rare').length / picks.length;
    expect(rare).toBeGreaterThan(0.07);
    expect(rare).toBeLessThan(0.13);
  });
  it('makes version-4-shaped UUIDs', () => {
    const rng = new SeededRandom(1);
    for (let i = 0; i < 100; i++) expect(rng.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('refuses a seed that is not a finite number', () => {
    expect(() => new SeededRandom(Number.NaN)).toThrow(TypeError);
  });
});
