/** Drugs with their WHO ATC codes, a usual adult dosage, and a daily cost range in CNY. */
export const ATC_SYSTEM = 'http://www.whocc.no/atc';

export interface Medication {
  name: string;
  atc: string;
  dosage: string;
  dailyCost: readonly [number, number];
}

const medication = (name: string, atc: string, dosage: string, dailyCost: readonly [number, number]): Medication => ({
  name, atc, dosage, dailyCost,
});

export const MEDICATIONS = {
  aspirin: medication('阿司匹林肠溶片', 'B01AC06', '100mg 口服 每日一次', [0.5, 2]),
  ticagrelor: medication('替格瑞洛片', 'B01AC24', '90mg 口服 每日两次', [6, 12]),
  clopidogrel: medication('硫酸氢氯吡格雷片', 'B01AC04', '75mg 口服 每日一次', [1, 4]),
  atorvastatin: medication('阿托伐他汀钙片', 'C10AA05', '20mg 口服 每晚一次', [0.5, 3]),
  metoprolol: medication('酒石酸美托洛尔片', 'C07AB02', '25mg 口服 每日两次', [0.5, 2]),
  enoxaparin: medication('依诺肝素钠注射液', 'B01AB05', '4000IU 皮下注射 每12小时一次', [30, 60]),
  ceftriaxone: medication('注射用头孢曲松钠', 'J01DD04', '2g 静脉滴注 每日一次', [15, 40]),
  levofloxacin: medication('左氧氟沙星片', 'J01MA12', '0.5g 口服 每日一次', [3, 10]),
  azithromycin: medication('注射用阿奇霉素', 'J01FA10', '0.5g 静脉滴注 每日一次', [20, 45]),
  ambroxol: medication('盐酸氨溴索口服溶液', 'R05CB06', '30mg 口服 每日三次', [2, 6]),
  cefuroxime: medication('注射用头孢呋辛钠', 'J01DC02', '1.5g 静脉滴注 每8小时一次', [20, 50]),
  metronidazole: medication('甲硝唑氯化钠注射液', 'J01XD01', '0.5g 静脉滴注 每8小时一次', [5, 12]),
  saline: medication('0.9%氯化钠注射液', 'B05XA03', '250ml 静脉滴注 每日一次', [3, 8]),
  metformin: medication('盐酸二甲双胍片', 'A10BA02', '0.5g 口服 每日三次 餐时', [0.5, 2]),
  insulinAspart: medication('门冬胰岛素注射液', 'A10AB05', '6U 皮下注射 三餐前', [10, 25]),
  insulinGlargine: medication('甘精胰岛素注射液', 'A10AE04', '10U 皮下注射 每晚睡前', [8, 20]),
  cefazolin: medication('注射用头孢唑林钠', 'J01DB04', '1g 静脉滴注 术前30分钟', [8, 20]),
  celecoxib: medication('塞来昔布胶囊', 'M01AH01', '200mg 口服 每日一次', [2, 6]),
  parecoxib: medication('注射用帕瑞昔布钠', 'M01AH04', '40mg 静脉注射 每12小时一次', [40, 90]),
  oxytocin: medication('缩宫素注射液', 'H01BB02', '10U 肌内注射 产后即刻', [2, 8]),
  ibuprofen: medication('布洛芬缓释胶囊', 'M01AE01', '0.3g 口服 每日两次', [1, 3]),
  edaravone: medication('依达拉奉注射液', 'N07XX14', '30mg 静脉滴注 每日两次', [40, 120]),
  cefoperazoneSulbactam: medication('注射用头孢哌酮钠舒巴坦钠', 'J01DD62', '3g 静脉滴注 每12小时一次', [40, 90]),
  omeprazole: medication('奥美拉唑肠溶胶囊', 'A02BC01', '20mg 口服 每日一次', [1, 4]),
  phloroglucinol: medication('间苯三酚注射液', 'A03AX12', '80mg 静脉滴注 每日一次', [15, 35]),
  tamsulosin: medication('盐酸坦索罗辛缓释胶囊', 'G04CA02', '0.2mg 口服 每晚一次', [2, 5]),
  diclofenac: medication('双氯芬酸钠栓', 'M01AB05', '50mg 直肠给药 必要时', [1, 3]),
  paracetamol: medication('对乙酰氨基酚片', 'N02BE01', '0.5g 口服 必要时', [0.3, 1]),
  hydrotalcite: medication('铝碳酸镁咀嚼片', 'A02AD04', '1g 嚼服 每日三次', [2, 5]),
  amlodipine: medication('苯磺酸氨氯地平片', 'C08CA01', '5mg 口服 每日一次', [0.3, 2]),
  valsartan: medication('缬沙坦胶囊', 'C09CA03', '80mg 口服 每日一次', [1, 3]),
  acarbose: medication('阿卡波糖片', 'A10BF01', '50mg 口服 每日三次 随第一口饭嚼服', [1, 4]),
  eperisone: medication('盐酸乙哌立松片', 'M03BX09', '50mg 口服 每日三次', [2, 5]),
  nitrofurantoin: medication('呋喃妥因肠溶片', 'J01XE01', '50mg 口服 每日三次', [1, 3]),
} as const satisfies Record<string, Medication>;

export type MedicationKey = keyof typeof MEDICATIONS;
