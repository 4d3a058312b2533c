import { describe, expect, it } from 'vitest';
import { chooseEngines } from '../../bench/engines.js';

describe('bench --store', () => {
  it('takes the engines named, once each', () => {
    expect(chooseEngines('postgres,sqlite,postgres')).toEqual({ engines: ['postgres', 'sqlite'] });
    expect(chooseEngines('sqlite')).toEqual({ engines: ['sqlite'] });
  });

  it('refuses an engine it does not know, or none', () => {
    expect(() => chooseEngines('sqlite,mysql')).toThrow(/--store takes sqlite,postgres/);
    expect(() => chooseEngines('')).toThrow(/--store/);
  });

  it('by default benches PostgreSQL beside SQLite when its binaries are found, and says so when they are not', () => {
    const chosen = chooseEngines(undefined);
    if (chosen.engines.includes('postgres')) expect(chosen).toEqual({ engines: ['sqlite', 'postgres'] });
    else expect(chosen.warning).toMatch(/PostgreSQL is NOT benched/);
  });

  it('leaves PostgreSQL out, loudly, when HDX_POSTGRES_BIN names no binaries', () => {
    const saved = process.env.HDX_POSTGRES_BIN;
    process.env.HDX_POSTGRES_BIN = '/nonexistent';
    try {
      const chosen = chooseEngines(undefined);
      expect(chosen.engines).toEqual(['sqlite']);
      expect(chosen.warning).toMatch(/PostgreSQL is NOT benched.*HDX_POSTGRES_BIN/);
    } finally {
      if (saved === undefined) delete process.env.HDX_POSTGRES_BIN;
      else process.env.HDX_POSTGRES_BIN = saved;
    }
  });
});
