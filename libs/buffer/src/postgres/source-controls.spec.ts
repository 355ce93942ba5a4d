import { controlNoticeSource, encodeControlNotice } from './source-controls';

describe('control notices', () => {
  it('name the source', () => {
    expect(encodeControlNotice('orders-db')).toBe('{"s":"orders-db"}');
    expect(controlNoticeSource(encodeControlNotice('orders-db'))).toBe('orders-db');
  });

  it('still name the source when they also list tables (replays for the writers)', () => {
    expect(controlNoticeSource('{"s":"orders-db","t":[3,4]}')).toBe('orders-db');
  });

  it('name nothing when this version cannot read them', () => {
    expect([undefined, '', 'not json', '{"t":[1]}', '{"s":7}', '"s"'].map(controlNoticeSource)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});
