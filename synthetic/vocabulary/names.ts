/**
 * Chinese surnames with rough population weights (per mille, after the 2020 census ranking), and the
 * characters that given names are commonly built from.
 */
export const SURNAMES: ReadonlyArray<readonly [string, number]> = [
  ['王', 71], ['李', 70], ['张', 64], ['刘', 53], ['陈', 45], ['杨', 31], ['黄', 22], ['赵', 20], ['吴', 20],
  ['周', 19], ['徐', 13], ['孙', 12], ['马', 11], ['朱', 10], ['胡', 9], ['郭', 9], ['何', 9], ['高', 9],
  ['林', 9], ['罗', 8], ['郑', 8], ['梁', 7], ['谢', 6], ['宋', 5], ['唐', 5], ['许', 5], ['韩', 4], ['冯', 4],
  ['邓', 4], ['曹', 4], ['彭', 4], ['曾', 4], ['肖', 4], ['田', 3], ['董', 3], ['袁', 3], ['潘', 3], ['蒋', 3],
  ['蔡', 3], ['余', 3], ['杜', 3], ['叶', 3], ['程', 3], ['苏', 2], ['魏', 2], ['吕', 2], ['丁', 2], ['沈', 2],
  ['钟', 2], ['卢', 2], ['欧阳', 0.5], ['司马', 0.1],
];

export const MALE_GIVEN_CHARACTERS = [
  '伟', '强', '磊', '军', '勇', '杰', '涛', '明', '超', '斌', '辉', '华', '建', '国', '志', '文', '俊', '浩', '宇',
  '鹏', '飞', '鑫', '波', '海', '东', '峰', '刚', '亮', '健', '晨', '龙', '振', '嘉', '轩', '博', '泽', '荣', '德',
] as const;

export const FEMALE_GIVEN_CHARACTERS = [
  '芳', '娜', '敏', '静', '丽', '艳', '娟', '霞', '玲', '秀', '英', '燕', '萍', '红', '梅', '婷', '雪', '琳', '慧',
  '颖', '晶', '欣', '怡', '佳', '琪', '悦', '诗', '雨', '梦', '涵', '晓', '丹', '倩', '洁', '荣', '桂',
] as const;

/** Doctors who sign notes: not the patient's identifiers, but realistic text around them. */
export const DOCTOR_NAMES = ['李明哲', '陈思远', '黄振宇', '刘婉清', '周文博', '吴嘉怡', '郑国栋', '林晓岚', '何子健', '徐慧敏'] as const;

const COMPOUND_SURNAMES = SURNAMES.map(([surname]) => surname).filter((surname) => surname.length > 1);

/** Splits a generated full name into surname and given name (compound surnames such as 欧阳 included). */
export function splitName(name: string): { family: string; given: string } {
  const family = COMPOUND_SURNAMES.find((surname) => name.startsWith(surname)) ?? name.slice(0, 1);
  return { family, given: name.slice(family.length) };
}
