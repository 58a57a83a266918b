import fc from 'fast-check';
import { frozenCopy, isDeepFrozen } from '../../../domain/frozen';

describe('frozenCopy', () => {
  it('is deepFreeze(structuredClone(x)) for plain data: equal, deeply frozen, sharing nothing with the input', () => {
    const clone = jest.spyOn(globalThis, 'structuredClone');
    fc.assert(
      fc.property(fc.jsonValue(), fc.option(fc.string(), { nil: undefined }), (json, optional) => {
        const value = { json, optional, list: [json, { optional }] };
        const copy = frozenCopy(value);
        expect(copy).toStrictEqual(structuredClone(value));
        expect(isDeepFrozen(copy)).toBe(true);
        expect(Object.isFrozen(value)).toBe(false);
        if (json !== null && typeof json === 'object') expect(copy.json).not.toBe(json);
      }),
      { numRuns: 300 },
    );
    // Only the reference clones above: plain data takes the one walk.
    expect(clone).toHaveBeenCalledTimes(300);
    clone.mockRestore();
  });

  it('copies what is not plain data through structuredClone', () => {
    const at = new Date(Date.UTC(2026, 11, 4));
    const copy = frozenCopy({ at, tags: new Map([['a', 1]]) });
    expect(Object.prototype.toString.call(copy.at)).toBe('[object Date]');
    expect(copy.at).not.toBe(at);
    expect(copy.at.getTime()).toBe(at.getTime());
    expect(copy.tags.get('a')).toBe(1);
    expect(Object.isFrozen(copy.at)).toBe(true);
  });
});
