/** Laboratory tests: LOINC code, Chinese name, UCUM unit, reference range and result precision. */
export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

export interface LabTest {
  loinc: string;
  name: string;
  /** UCUM code; `unit` is how Chinese reports print it. */
  ucum: string;
  unit: string;
  reference: readonly [number, number];
  /** Where an unremarkable patient's result falls (narrower than the reference range). */
  typical: readonly [number, number];
  decimals: number;
  price: readonly [number, number];
}

const lab = (
  loinc: string, name: string, ucum: string, unit: string, reference: readonly [number, number], decimals: number,
  price: readonly [number, number], typical: readonly [number, number] = reference,
): LabTest => ({ loinc, name, ucum, unit, reference, typical, decimals, price });

export const LAB_TESTS = {
  wbc: lab('6690-2', '白细胞计数', '10*9/L', '×10^9/L', [3.5, 9.5], 2, [15, 25]),
  hemoglobin: lab('718-7', '血红蛋白', 'g/L', 'g/L', [115, 175], 0, [15, 25]),
  platelets: lab('777-3', '血小板计数', '10*9/L', '×10^9/L', [125, 350], 0, [15, 25]),
  glucose: lab('14749-6', '葡萄糖', 'mmol/L', 'mmol/L', [3.9, 6.1], 1, [5, 12]),
  hba1c: lab('4548-4', '糖化血红蛋白', '%', '%', [4, 6], 1, [60, 90]),
  creatinine: lab('14682-9', '肌酐', 'umol/L', 'μmol/L', [57, 111], 0, [8, 15]),
  potassium: lab('2823-3', '钾', 'mmol/L', 'mmol/L', [3.5, 5.3], 2, [5, 10]),
  sodium: lab('2951-2', '钠', 'mmol/L', 'mmol/L', [137, 147], 1, [5, 10]),
  alt: lab('1742-6', '丙氨酸氨基转移酶', 'U/L', 'U/L', [9, 50], 0, [5, 10]),
  troponinI: lab('10839-9', '肌钙蛋白I', 'ng/mL', 'ng/mL', [0, 0.04], 2, [80, 150], [0, 0.03]),
  ntProBnp: lab('33762-6', 'N末端B型利钠肽原', 'pg/mL', 'pg/mL', [0, 125], 0, [150, 260], [15, 110]),
  crp: lab('1988-5', 'C反应蛋白', 'mg/L', 'mg/L', [0, 10], 1, [30, 50], [0.5, 8]),
  procalcitonin: lab('33959-8', '降钙素原', 'ng/mL', 'ng/mL', [0, 0.05], 2, [120, 200], [0.01, 0.05]),
  cea: lab('2039-6', '癌胚抗原', 'ng/mL', 'ng/mL', [0, 5], 2, [60, 100], [0.5, 4.5]),
  ldl: lab('22748-8', '低密度脂蛋白胆固醇', 'mmol/L', 'mmol/L', [0, 3.4], 2, [8, 15], [1.8, 3.3]),
  bilirubin: lab('14631-6', '总胆红素', 'umol/L', 'μmol/L', [3.4, 20.5], 1, [5, 10]),
  urineWbc: lab('5821-4', '尿白细胞', '/[HPF]', '/HP', [0, 5], 0, [10, 20], [0, 4]),
} as const satisfies Record<string, LabTest>;

export type LabKey = keyof typeof LAB_TESTS;
