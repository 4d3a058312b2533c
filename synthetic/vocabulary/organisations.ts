/** Hospitals, the 医保 payer and commercial insurers that appear in Shenzhen records. */

export const SOCIAL_INSURANCE_PAYOR = '深圳市医疗保障局';

export const HOSPITAL_NAMES = [
  '深圳市人民医院', '北京大学深圳医院', '深圳市第二人民医院', '香港大学深圳医院', '深圳市南山区人民医院',
  '深圳市宝安区人民医院', '深圳市龙岗区人民医院', '中山大学附属第七医院',
] as const;

/** Well-known hospital ids map to their own names; others get a stable pick from the list. */
export const KNOWN_HOSPITALS: Readonly<Record<string, string>> = {
  'nanshan-people': '深圳市南山区人民医院',
  'shenzhen-people': '深圳市人民医院',
  'pku-shenzhen': '北京大学深圳医院',
  'hku-shenzhen': '香港大学深圳医院',
};

export const COMMERCIAL_INSURERS = [
  { id: 'taikang-online', name: '泰康在线财产保险股份有限公司', plan: '泰康百万医疗险' },
  { id: 'pingan-health', name: '平安健康保险股份有限公司', plan: '平安e生保' },
  { id: 'zhongan', name: '众安在线财产保险股份有限公司', plan: '尊享e生' },
  { id: 'chinalife-shenzhen', name: '中国人寿财产保险股份有限公司深圳市分公司', plan: '深圳惠民保' },
] as const;
