/**
 * Clinical profiles: a principal diagnosis (ICD-10) with what usually goes with it — department, length of
 * stay, presenting complaint, the procedures (ICD-9-CM-3) done for it, drugs, labs (with the range a
 * typical patient's result falls in) and imaging — so that generated records hang together.
 */
import type { LabKey } from './labs.js';
import type { MedicationKey } from './medications.js';

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const ICD9CM_SYSTEM = 'http://hl7.org/fhir/sid/icd-9-cm';

export interface ProcedureCode {
  code: string;
  display: string;
  /** Which charge category bills it. */
  category: 'surgery' | 'exam';
  price: readonly [number, number];
  /** Consumables billed with it (stents, prostheses, laparoscopic kits). */
  material?: { name: string; price: readonly [number, number] };
  durationMinutes: readonly [number, number];
}

export interface DiagnosisProfile {
  code: string;
  display: string;
  setting: 'IMP' | 'AMB';
  department: string;
  sex?: 'male' | 'female';
  minAge?: number;
  maxAge?: number;
  /** Inpatient days, within 2–12. */
  lengthOfStay: readonly [number, number];
  complaint: string;
  findings: string;
  course: string;
  outcome: string;
  /** Alternatives; each is the set of procedures done together (possibly none). */
  procedures: ReadonlyArray<readonly ProcedureCode[]>;
  medications: readonly MedicationKey[];
  /** A lab, or a lab with the range this condition's results fall in. */
  labs: ReadonlyArray<LabKey | readonly [LabKey, readonly [number, number]]>;
  imaging?: { name: string; price: readonly [number, number] };
}

const procedure = (
  code: string, display: string, category: 'surgery' | 'exam', price: readonly [number, number],
  durationMinutes: readonly [number, number], material?: { name: string; price: readonly [number, number] },
): ProcedureCode => ({ code, display, category, price, durationMinutes, ...(material ? { material } : {}) });

const PTCA = procedure('00.66', '经皮冠状动脉腔内血管成形术', 'surgery', [6000, 9000], [60, 120]);
const DES = procedure('36.07', '药物洗脱冠状动脉支架置入术', 'surgery', [3000, 5000], [30, 60], { name: '冠脉药物洗脱支架及导管耗材', price: [3500, 9000] });
const CORONARY_ANGIOGRAPHY = procedure('88.57', '冠状动脉造影', 'exam', [2500, 4000], [30, 60], { name: '造影导管耗材', price: [800, 1800] });
const LAP_APPENDECTOMY = procedure('47.01', '腹腔镜下阑尾切除术', 'surgery', [2500, 4500], [45, 90], { name: '腹腔镜耗材', price: [1500, 3500] });
const HIP_REPLACEMENT = procedure('81.51', '全髋关节置换术', 'surgery', [6000, 9000], [90, 150], { name: '人工髋关节假体', price: [7000, 12000] });
const PARTIAL_HIP = procedure('81.52', '部分髋关节置换术', 'surgery', [5000, 8000], [80, 130], { name: '人工股骨头假体', price: [5000, 9000] });
const FEMUR_FIXATION = procedure('79.35', '股骨骨折切开复位内固定术', 'surgery', [4000, 7000], [90, 150], { name: '空心钉内固定材料', price: [3000, 7000] });
const VATS_LOBECTOMY = procedure('32.41', '胸腔镜下肺叶切除术', 'surgery', [9000, 15000], [150, 240], { name: '腔镜切割闭合器及钉仓', price: [6000, 12000] });
const BRONCHOSCOPIC_BIOPSY = procedure('33.24', '支气管镜下支气管活检', 'exam', [800, 1500], [20, 40]);
const ASSISTED_DELIVERY = procedure('73.59', '手法助产分娩', 'surgery', [800, 1500], [30, 120]);
const EPISIOTOMY = procedure('73.6', '会阴切开术', 'surgery', [200, 500], [10, 20]);
const THROMBOLYSIS = procedure('99.10', '注射或输注溶栓剂', 'surgery', [4000, 8000], [60, 90]); // price includes the thrombolytic
const LAP_CHOLECYSTECTOMY = procedure('51.23', '腹腔镜下胆囊切除术', 'surgery', [3000, 5000], [60, 120], { name: '腹腔镜耗材', price: [1500, 3500] });
const LITHOTRIPSY = procedure('98.51', '体外冲击波肾、输尿管和（或）膀胱碎石术', 'surgery', [1500, 3000], [40, 60]);
const GASTROSCOPY = procedure('44.13', '胃镜检查', 'exam', [200, 450], [10, 20]);

export const DIAGNOSES: readonly DiagnosisProfile[] = [
  {
    code: 'I21.0', display: '急性前壁心肌梗死', setting: 'IMP', department: '心血管内科', minAge: 40, lengthOfStay: [5, 10],
    complaint: '持续性胸骨后压榨样疼痛3小时', findings: '心电图示V1–V4导联ST段抬高',
    course: '急诊开通绿色通道，予双联抗血小板、抗凝、调脂及稳定斑块治疗', outcome: '无胸痛发作，心功能II级',
    procedures: [[CORONARY_ANGIOGRAPHY, DES], [PTCA, DES], [CORONARY_ANGIOGRAPHY]],
    medications: ['aspirin', 'ticagrelor', 'clopidogrel', 'atorvastatin', 'metoprolol', 'enoxaparin'],
    labs: [['troponinI', [2, 45]], ['ntProBnp', [400, 4500]], 'wbc', 'creatinine', 'potassium', 'ldl'],
    imaging: { name: '心脏彩色多普勒超声', price: [200, 350] },
  },
  {
    code: 'J18.9', display: '肺炎', setting: 'IMP', department: '呼吸内科', lengthOfStay: [5, 10],
    complaint: '发热、咳嗽、咳黄痰5天', findings: '右下肺可闻及湿啰音',
    course: '予抗感染、化痰、补液等对症支持治疗，体温于入院第3天恢复正常', outcome: '无发热，咳嗽明显减轻',
    procedures: [[]],
    medications: ['ceftriaxone', 'azithromycin', 'levofloxacin', 'ambroxol', 'saline'],
    labs: [['wbc', [10.5, 17]], ['crp', [25, 160]], ['procalcitonin', [0.2, 3]], 'hemoglobin', 'alt'],
    imaging: { name: '胸部CT平扫', price: [200, 450] },
  },
  {
    code: 'K35.8', display: '急性阑尾炎', setting: 'IMP', department: '普外科', minAge: 6, lengthOfStay: [3, 6],
    complaint: '转移性右下腹痛1天', findings: '麦氏点压痛、反跳痛阳性',
    course: '完善术前准备后急诊手术，术后予抗感染、补液治疗', outcome: '切口愈合良好，无腹痛',
    procedures: [[LAP_APPENDECTOMY]],
    medications: ['cefuroxime', 'metronidazole', 'saline', 'parecoxib'],
    labs: [['wbc', [11, 19]], ['crp', [20, 120]], 'hemoglobin', 'platelets'],
    imaging: { name: '腹部CT平扫', price: [200, 450] },
  },
  {
    code: 'E11.9', display: '2型糖尿病', setting: 'IMP', department: '内分泌科', minAge: 25, lengthOfStay: [5, 10],
    complaint: '口干、多饮、多尿2月，血糖控制不佳', findings: '空腹指尖血糖13.2mmol/L',
    course: '予糖尿病饮食及运动指导，胰岛素强化降糖后调整为口服降糖方案', outcome: '血糖控制平稳',
    procedures: [[]],
    medications: ['metformin', 'insulinAspart', 'insulinGlargine', 'acarbose'],
    labs: [['glucose', [8.5, 16]], ['hba1c', [7.5, 11.5]], 'creatinine', 'alt', 'ldl'],
    imaging: { name: '颈部血管彩色多普勒超声', price: [150, 300] },
  },
  {
    code: 'S72.0', display: '股骨颈骨折', setting: 'IMP', department: '骨科', minAge: 55, lengthOfStay: [6, 12],
    complaint: '跌倒致右髋部疼痛、活动受限4小时', findings: '右下肢短缩外旋畸形',
    course: '完善术前评估后行手术治疗，术后予预防感染、抗凝及康复训练', outcome: '可扶助行器下地行走',
    procedures: [[HIP_REPLACEMENT], [PARTIAL_HIP], [FEMUR_FIXATION]],
    medications: ['cefazolin', 'enoxaparin', 'celecoxib', 'parecoxib', 'saline'],
    labs: [['hemoglobin', [90, 125]], 'wbc', 'creatinine', 'potassium'],
    imaging: { name: '髋关节X线摄影', price: [80, 160] },
  },
  {
    code: 'C34.9', display: '肺恶性肿瘤', setting: 'IMP', department: '胸外科', minAge: 45, lengthOfStay: [6, 12],
    complaint: '咳嗽、痰中带血1月', findings: '胸部CT示右上肺结节影',
    course: '完善检查明确诊断后行手术治疗，术后予抗感染、化痰、镇痛治疗', outcome: '胸腔引流管已拔除，切口愈合好',
    procedures: [[BRONCHOSCOPIC_BIOPSY, VATS_LOBECTOMY], [VATS_LOBECTOMY]],
    medications: ['cefuroxime', 'ambroxol', 'parecoxib', 'saline'],
    labs: [['cea', [6, 40]], 'wbc', 'hemoglobin', 'alt'],
    imaging: { name: '胸部增强CT', price: [450, 800] },
  },
  {
    code: 'O80', display: '单胎顺产', setting: 'IMP', department: '产科', sex: 'female', minAge: 20, maxAge: 42,
    lengthOfStay: [2, 4], complaint: '停经39+2周，下腹阵痛5小时', findings: '宫口开大3cm，胎心140次/分',
    course: '经阴道分娩一活婴，产后予促宫缩治疗', outcome: '子宫收缩好，恶露量少',
    procedures: [[ASSISTED_DELIVERY], [ASSISTED_DELIVERY, EPISIOTOMY]],
    medications: ['oxytocin', 'ibuprofen', 'saline'],
    labs: [['hemoglobin', [100, 130]], 'wbc', 'platelets'],
    imaging: { name: '产科彩色多普勒超声', price: [150, 300] },
  },
  {
    code: 'I63.9', display: '脑梗死', setting: 'IMP', department: '神经内科', minAge: 45, lengthOfStay: [7, 12],
    complaint: '左侧肢体无力伴言语不清6小时', findings: '左侧肢体肌力4级',
    course: '予抗血小板聚集、调脂稳定斑块、清除自由基及康复治疗', outcome: '肢体肌力较前改善，言语清晰',
    procedures: [[THROMBOLYSIS], [], []],
    medications: ['aspirin', 'clopidogrel', 'atorvastatin', 'edaravone', 'saline'],
    labs: [['ldl', [3, 5]], 'glucose', 'hemoglobin', 'creatinine'],
    imaging: { name: '头颅MRI平扫+弥散加权成像', price: [600, 900] },
  },
  {
    code: 'K80.1', display: '胆囊结石伴胆囊炎', setting: 'IMP', department: '肝胆外科', minAge: 20, lengthOfStay: [3, 7],
    complaint: '右上腹痛2天', findings: 'Murphy征阳性',
    course: '予抗感染、解痉治疗后行手术，术后恢复顺利', outcome: '无腹痛，饮食正常',
    procedures: [[LAP_CHOLECYSTECTOMY]],
    medications: ['cefoperazoneSulbactam', 'omeprazole', 'phloroglucinol', 'saline'],
    labs: [['wbc', [9.5, 15]], ['bilirubin', [15, 40]], ['alt', [40, 120]], 'crp'],
    imaging: { name: '肝胆胰脾彩色多普勒超声', price: [150, 280] },
  },
  {
    code: 'N20.0', display: '肾结石', setting: 'IMP', department: '泌尿外科', minAge: 18, lengthOfStay: [2, 5],
    complaint: '左侧腰痛伴肉眼血尿1天', findings: '左肾区叩击痛阳性',
    course: '予解痉止痛、排石治疗并行体外冲击波碎石', outcome: '腰痛缓解，复查结石已粉碎',
    procedures: [[LITHOTRIPSY]],
    medications: ['tamsulosin', 'diclofenac', 'phloroglucinol', 'saline'],
    labs: ['creatinine', 'wbc', ['urineWbc', [3, 20]], 'potassium'],
    imaging: { name: '泌尿系CT平扫', price: [250, 450] },
  },
  {
    code: 'J06.9', display: '急性上呼吸道感染', setting: 'AMB', department: '全科医学科', lengthOfStay: [0, 0],
    complaint: '咽痛、流涕2天', findings: '咽部充血，双侧扁桃体无肿大',
    course: '予对症治疗，嘱多饮水、休息', outcome: '一般情况可',
    procedures: [[]],
    medications: ['paracetamol', 'ambroxol', 'levofloxacin'],
    labs: ['wbc', 'crp', 'hemoglobin'],
  },
  {
    code: 'K29.7', display: '胃炎', setting: 'AMB', department: '消化内科', minAge: 16, lengthOfStay: [0, 0],
    complaint: '上腹部隐痛1周', findings: '上腹部轻压痛',
    course: '行胃镜检查示慢性非萎缩性胃炎，予抑酸护胃治疗', outcome: '一般情况可',
    procedures: [[GASTROSCOPY], []],
    medications: ['omeprazole', 'hydrotalcite'],
    labs: ['hemoglobin', 'wbc', 'alt'],
  },
  {
    code: 'I10', display: '高血压', setting: 'AMB', department: '心血管内科', minAge: 30, lengthOfStay: [0, 0],
    complaint: '头晕、血压升高1周', findings: '血压162/98mmHg',
    course: '调整降压方案，嘱低盐饮食、监测血压', outcome: '一般情况可',
    procedures: [[]],
    medications: ['amlodipine', 'valsartan', 'metoprolol'],
    labs: ['potassium', 'creatinine', 'sodium'],
  },
  {
    code: 'E11.9', display: '2型糖尿病', setting: 'AMB', department: '内分泌科', minAge: 25, lengthOfStay: [0, 0],
    complaint: '糖尿病复诊', findings: '空腹指尖血糖8.6mmol/L',
    course: '评估血糖控制情况，调整口服降糖药', outcome: '一般情况可',
    procedures: [[]],
    medications: ['metformin', 'acarbose'],
    labs: [['glucose', [7, 12]], ['hba1c', [6.8, 9.5]], 'creatinine'],
  },
  {
    code: 'M54.5', display: '腰痛', setting: 'AMB', department: '骨科', minAge: 18, lengthOfStay: [0, 0],
    complaint: '腰痛3天', findings: '腰部肌肉紧张，压痛阳性',
    course: '予消炎镇痛、肌松治疗，嘱卧床休息', outcome: '一般情况可',
    procedures: [[]],
    medications: ['celecoxib', 'eperisone'],
    labs: ['wbc', 'crp'],
    imaging: { name: '腰椎X线摄影', price: [80, 160] },
  },
  {
    code: 'N39.0', display: '尿路感染', setting: 'AMB', department: '泌尿外科', minAge: 16, lengthOfStay: [0, 0],
    complaint: '尿频、尿急、尿痛2天', findings: '耻骨上区轻压痛',
    course: '予口服抗感染治疗，嘱多饮水', outcome: '一般情况可',
    procedures: [[]],
    medications: ['levofloxacin', 'nitrofurantoin'],
    labs: [['urineWbc', [15, 80]], 'wbc', 'creatinine'],
  },
];

export interface Comorbidity {
  code: string;
  display: string;
  minAge: number;
}

export const COMORBIDITIES: readonly Comorbidity[] = [
  { code: 'I10', display: '高血压', minAge: 35 },
  { code: 'E11.9', display: '2型糖尿病', minAge: 35 },
  { code: 'E78.5', display: '高脂血症', minAge: 35 },
  { code: 'J44.9', display: '慢性阻塞性肺疾病', minAge: 50 },
  { code: 'N18.9', display: '慢性肾脏病', minAge: 50 },
  { code: 'K21.9', display: '胃食管反流病', minAge: 25 },
  { code: 'I48.9', display: '心房颤动', minAge: 60 },
  { code: 'E03.9', display: '甲状腺功能减退症', minAge: 25 },
];
