/**
 * The bill of a stay: 4–10 charge lines in the categories the hospital's fee list uses, amounts in integer
 * fen (cents) so that the total is exact, and the 医保 share of it.
 */
import { MINUTE_MS } from './china-time.js';
import type { SeededRandom } from './random.js';
import type { StayPlan } from './stay-plan.js';

export type ChargeCategory = 'bed' | 'drug' | 'lab' | 'imaging' | 'surgery' | 'nursing' | 'material' | 'exam';

export const CHARGE_CATEGORY_NAMES: Readonly<Record<ChargeCategory, string>> = {
  bed: '床位费',
  drug: '药品费',
  lab: '化验费',
  imaging: '影像检查费',
  surgery: '手术费',
  nursing: '护理费',
  material: '卫生材料费',
  exam: '检查费',
};

export interface ChargeLine {
  category: ChargeCategory;
  /** What exactly was charged, e.g. 床位费（普通病房） or a drug's name. */
  description: string;
  quantity: number;
  amountFen: number;
  /** One moment, or a period for per-day items (bed, nursing). */
  occurrence: { at: number } | { start: number; end: number };
}

export interface Bill {
  lines: ChargeLine[];
  totalFen: number;
  socialInsurancePaidFen: number;
}

const MAX_LINES = 10;
const MIN_LINES = 4;

const fen = (rng: SeededRandom, [min, max]: readonly [number, number]): number => rng.int(min * 100, max * 100);

export function billStay(rng: SeededRandom, plan: StayPlan): Bill {
  const inpatient = plan.encounterClass === 'IMP';
  const days = Math.max(1, plan.lengthOfStay);
  const whole = { start: plan.start, end: plan.end };
  const early = during(plan, 30);
  const lines: ChargeLine[] = [];

  if (inpatient) {
    lines.push({ category: 'bed', description: '床位费（普通病房）', quantity: days, amountFen: days * fen(rng, [60, 150]), occurrence: whole });
    lines.push({ category: 'nursing', description: rng.pick(['一级护理', '二级护理']), quantity: days, amountFen: days * fen(rng, [25, 60]), occurrence: whole });
    lines.push({ category: 'exam', description: '心电图及床旁检查', quantity: 1, amountFen: fen(rng, [80, 600]), occurrence: early });
  } else {
    lines.push({ category: 'exam', description: '诊查费', quantity: 1, amountFen: fen(rng, [20, 50]), occurrence: { at: plan.start } });
  }
  const labTimes = plan.labs.map((lab) => lab.time);
  lines.push({
    category: 'lab',
    description: '检验费',
    quantity: plan.labs.length,
    amountFen: plan.labs.reduce((sum, lab) => sum + fen(rng, lab.test.price), 0) * (inpatient ? rng.int(2, 4) : 1),
    occurrence: { at: Math.min(...labTimes) },
  });
  if (plan.imaging !== undefined) {
    lines.push({ category: 'imaging', description: plan.imaging.name, quantity: 1, amountFen: fen(rng, plan.imaging.price), occurrence: { at: plan.imaging.time } });
  }
  for (const procedure of plan.procedures) {
    lines.push({ category: procedure.code.category, description: procedure.code.display, quantity: 1, amountFen: fen(rng, procedure.code.price), occurrence: { at: procedure.start } });
    if (procedure.code.material !== undefined) {
      lines.push({ category: 'material', description: procedure.code.material.name, quantity: 1, amountFen: fen(rng, procedure.code.material.price), occurrence: { at: procedure.start } });
    }
  }
  // Outpatients take home one to two weeks' supply.
  addDrugLines(rng, plan, lines, inpatient ? days : rng.int(7, 14));
  if (lines.length < MIN_LINES) {
    lines.push({ category: 'material', description: '一次性医用耗材', quantity: 1, amountFen: fen(rng, [5, 60]), occurrence: { at: plan.start } });
  }

  const totalFen = lines.reduce((sum, line) => sum + line.amountFen, 0);
  // 医保 pays its share of the eligible part (some drugs and materials are partly self-paid).
  const eligibleFen = Math.round(totalFen * rng.decimal(0.85, 0.98, 3));
  const socialInsurancePaidFen = Math.round(eligibleFen * rng.decimal(0.5, 0.8, 3));
  return { lines, totalFen, socialInsurancePaidFen };
}

/** `minutes` after admission, but never after discharge (a short outpatient visit). */
function during(plan: StayPlan, minutes: number): { at: number } {
  return { at: Math.min(plan.end, plan.start + minutes * MINUTE_MS) };
}

/** One line per drug while there is room under MAX_LINES; the rest share one 其他药品 line. */
function addDrugLines(rng: SeededRandom, plan: StayPlan, lines: ChargeLine[], days: number): void {
  const room = Math.max(1, MAX_LINES - lines.length);
  const drugs = plan.medications.map((medication) => ({
    name: medication.name,
    amountFen: days * fen(rng, medication.dailyCost),
  }));
  const separate = drugs.length <= room ? drugs : drugs.slice(0, room - 1);
  const grouped = drugs.slice(separate.length);
  const at = during(plan, 60);
  for (const drug of separate) lines.push({ category: 'drug', description: drug.name, quantity: days, amountFen: drug.amountFen, occurrence: at });
  if (grouped.length > 0) {
    lines.push({ category: 'drug', description: '其他药品', quantity: grouped.length, amountFen: grouped.reduce((sum, d) => sum + d.amountFen, 0), occurrence: at });
  }
}
