import { describe, expect, it } from 'vitest';
import { found, foundBy } from './found.js';

describe('email detector', () => {
  it('finds addresses next to Chinese text and punctuation', () => {
    expect(found('邮箱zhang.san+hdx@mail.example.com。QQ邮箱 12345678@qq.com')).toEqual([
      ['email', 'zhang.san+hdx@mail.example.com'],
      ['email', '12345678@qq.com'],
    ]);
  });
  it('ignores an @ without a plausible domain', () => {
    expect(foundBy('email', '@张医生 请会诊; a@b; x@localhost; 5@3.2')).toEqual([]);
  });
});

describe('url detector', () => {
  it('finds http, https and www. addresses and leaves trailing punctuation', () => {
    expect(found('见 https://his.example.cn/p?id=4403&n=1，或(www.example.com/x)。HTTP://A.CN/b.')).toEqual([
      ['url', 'https://his.example.cn/p?id=4403&n=1'],
      ['url', 'www.example.com/x'],
      ['url', 'HTTP://A.CN/b'],
    ]);
  });
  it('does not match bare words or a scheme alone', () => {
    expect(foundBy('url', 'http:// 网址缺失，example.com 不算')).toEqual([]);
  });
});

describe('ip detector', () => {
  it('finds IPv4 and IPv6 addresses, full and compressed', () => {
    expect(found('来源 10.0.12.7，网关 2001:db8::8a2e:370:7334，链路 fe80::1ff:fe23:4567:890a.')).toEqual([
      ['ip', '10.0.12.7'],
      ['ip', '2001:db8::8a2e:370:7334'],
      ['ip', 'fe80::1ff:fe23:4567:890a'],
    ]);
  });
  it('does not take versions, out-of-range octets, times or ratios for addresses', () => {
    expect(foundBy('ip', '版本 1.2.3.4.5，值 256.1.1.1，时间 10:30:00，比例 1:2，ICD I21.0')).toEqual([]);
  });
});
