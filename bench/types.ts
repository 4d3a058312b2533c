import type { Engine } from '../gateway/storage/store.js';

/** One figure a benchmark prints: the value measured, its unit, and the target or floor beside it. */
export interface BenchLine {
  /** e.g. "deid claim-settlement (1 core)". */
  name: string;
  value: number;
  /** e.g. "bundles/s", "ms (median)". */
  unit: string;
  /** The target from the issue, e.g. ">= 3000 bundles/s". */
  target?: string;
  /** Whether the measured value meets the target (undefined when there is none). */
  meets?: boolean;
  /** Free-form context: sizes, settings. */
  note?: string;
  /**
   * The name of the floor line (from any module of the same run) this figure is read against; the runner
   * prints and records the ratio value / floor (a rate against a rate, a time against a time).
   */
  floor?: string;
  /** Where the figure goes in a chart of the results: chart id, series, and x (e.g. offered load). */
  chart?: { id: string; series: string; x: number };
  /** The storage engine the figure was measured on (set by the runner for the per-engine modules). */
  store?: Engine;
}

/** Every bench module exports `bench(options)`; `bench/run.ts` calls them in turn and prints a table. */
export interface BenchOptions {
  /** Smaller runs for a quick check (`npm run bench -- --quick`). */
  quick: boolean;
  /** The engine the gateway keeps its state in for this run (`--store`; default SQLite; modules that use no store ignore it). */
  store?: Engine;
  /** A fresh database in the run's throwaway PostgreSQL cluster (libpq URL); absent when PostgreSQL is not benched. */
  postgresDatabase?: () => Promise<string>;
}

export type BenchModule = { bench(options: BenchOptions): Promise<BenchLine[]> };
