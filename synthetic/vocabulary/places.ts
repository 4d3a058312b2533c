/**
 * Shenzhen districts (GB/T 2260 codes, postcodes, streets) for addresses, and Guangdong region codes for
 * the birthplace part of resident IDs (most people in Shenzhen were registered elsewhere).
 */
export interface District {
  name: string;
  regionCode: string;
  postcodes: readonly string[];
  streets: readonly string[];
}

export const PROVINCE = '广东省';
export const CITY = '深圳市';

export const SHENZHEN_DISTRICTS: readonly District[] = [
  { name: '罗湖区', regionCode: '440303', postcodes: ['518001', '518002', '518010', '518020'], streets: ['东门中路', '人民南路', '深南东路', '翠竹路', '宝安北路', '笋岗路'] },
  { name: '福田区', regionCode: '440304', postcodes: ['518033', '518048', '518026', '518040'], streets: ['福华路', '益田路', '彩田路', '华强北路', '莲花路', '新洲路'] },
  { name: '南山区', regionCode: '440305', postcodes: ['518052', '518057', '518054', '518067'], streets: ['科技园南路', '南海大道', '学府路', '蛇口工业大道', '桃园路', '南山大道'] },
  { name: '宝安区', regionCode: '440306', postcodes: ['518101', '518102', '518126', '518133'], streets: ['创业一路', '宝安大道', '前进路', '西乡大道', '新湖路'] },
  { name: '龙岗区', regionCode: '440307', postcodes: ['518116', '518172', '518129'], streets: ['龙岗大道', '龙翔大道', '吉华路', '五和大道', '黄阁路'] },
  { name: '盐田区', regionCode: '440308', postcodes: ['518081', '518083'], streets: ['海山路', '沙头角深盐路', '盐田路'] },
  { name: '龙华区', regionCode: '440309', postcodes: ['518109', '518131'], streets: ['民治大道', '人民路', '梅龙大道', '东环二路'] },
  { name: '坪山区', regionCode: '440310', postcodes: ['518118'], streets: ['坪山大道', '东纵路', '深汕路'] },
  { name: '光明区', regionCode: '440311', postcodes: ['518106', '518107'], streets: ['光明大道', '华夏路', '观光路'] },
];

export const DISTRICT_WEIGHTS: ReadonlyArray<readonly [District, number]> = SHENZHEN_DISTRICTS.map((district) => [
  district,
  district.name === '盐田区' || district.name === '坪山区' || district.name === '光明区' ? 1 : 4,
]);

/** Other Guangdong birthplaces: Guangzhou, Zhuhai, Foshan, Huizhou, Meizhou, Chaozhou, Shantou, Zhanjiang, … */
export const GUANGDONG_REGION_CODES = [
  '440103', '440106', '440402', '440604', '441302', '441402', '445102', '440507', '440823', '441900', '442000',
  '445202', '440981',
] as const;

export const ESTATES = [
  '阳光花园', '碧海华庭', '海月花园', '桃源村', '万科城', '华润城', '星海名城', '翠海花园', '金地花园', '东海花园',
  '荔景大厦', '怡景花园', '丽水佳园', '龙城花园', '幸福里', '枫林苑', '锦绣江南', '雅园',
] as const;
