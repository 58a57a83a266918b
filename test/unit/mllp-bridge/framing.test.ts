import fc from 'fast-check';
import { CARRIAGE_RETURN, END_BLOCK, frame, FrameTooLargeError, MllpDecoder, START_BLOCK } from '../../../mllp-bridge/framing';
import { allowListOf, bridgeAck } from '../../../mllp-bridge/bridge';

const decodeAll = (decoder: MllpDecoder, chunks: Buffer[]) => chunks.flatMap((c) => decoder.push(c)).map((m) => m.toString('latin1'));

/** Splits `bytes` at the given cut points (sorted, deduplicated). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

describe('MLLP framing', () => {
  test('a frame is VT, the message, FS CR', () => {
    expect([...frame('MSH|x')]).toEqual([START_BLOCK, ...Buffer.from('MSH|x'), END_BLOCK, CARRIAGE_RETURN]);
  });

  test('several frames in one chunk, bytes between frames ignored', () => {
    const wire = Buffer.concat([Buffer.from('\r\n'), frame('MSH|1'), Buffer.from('junk'), frame('MSH|2\rPID|x'), frame('MSH|3')]);
    expect(decodeAll(new MllpDecoder(1000), [wire])).toEqual(['MSH|1', 'MSH|2\rPID|x', 'MSH|3']);
  });

  test('an FS not followed by CR is message data', () => {
    const wire = Buffer.concat([Buffer.of(START_BLOCK), Buffer.from('A\x1cB'), Buffer.of(END_BLOCK, CARRIAGE_RETURN)]);
    expect(decodeAll(new MllpDecoder(1000), [wire])).toEqual(['A\x1cB']);
    // ... also when the FS ends a chunk and the next chunk does not start with CR
    expect(decodeAll(new MllpDecoder(1000), [wire.subarray(0, 3), wire.subarray(3)])).toEqual(['A\x1cB']);
  });

  test('property: any split of any sequence of frames decodes to the same messages', () => {
    const message = fc.uint8Array({ minLength: 0, maxLength: 60 }).map((a) => Buffer.from(a.filter((b) => b !== START_BLOCK && b !== END_BLOCK)));
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (messages, cuts) => {
        const wire = Buffer.concat(messages.map((m) => frame(m)));
        const decoder = new MllpDecoder(10_000);
        const decoded = split(wire, cuts).flatMap((chunk) => decoder.push(chunk));
        return decoded.length === messages.length && decoded.every((d, i) => d.equals(messages[i]!));
      }),
      { numRuns: 300 },
    );
  });

  test('a frame over the limit throws, and the decoder starts clean afterwards', () => {
    const decoder = new MllpDecoder(10);
    expect(() => decoder.push(frame('MSH|0123456789'))).toThrow(FrameTooLargeError);
    expect(decoder.buffered).toBe(0);
    expect(decodeAll(decoder, [frame('MSH|ok')])).toEqual(['MSH|ok']);
  });
});

describe('allow-list and the bridge ACK', () => {
  test('addresses and CIDR ranges, IPv4 and IPv6; a bad entry names itself', () => {
    const list = allowListOf(['10.1.0.0/16', ' 127.0.0.1 ', '::1', '']);
    expect(list.check('10.1.200.3', 'ipv4')).toBe(true);
    expect(list.check('10.2.0.1', 'ipv4')).toBe(false);
    expect(list.check('127.0.0.1', 'ipv4')).toBe(true);
    expect(list.check('::1', 'ipv6')).toBe(true);
    expect(() => allowListOf(['10.0.0.0/40'])).toThrow('10.0.0.0/40');
    expect(() => allowListOf(['example.org'])).toThrow('example.org');
  });

  test('a bridge ACK answers the sender by its MSH with AE or AR and a Slotflow code, no message content', () => {
    const message = 'MSH|^~\\&|EPIC|HOSP|SLOTFLOW|EHRC|20261201080000||SIU^S12^SIU_S12|CTRL42|P|2.5.1\rPID|1||p1^^^SLOTFLOW^PI||Doe^Jane';
    const ack = bridgeAck(message, 'AE', 'MLLP.UPSTREAM_UNAVAILABLE');
    const segments = ack.split('\r');
    expect(segments[0]).toMatch(/^MSH\|\^~\\&\|SLOTFLOW\|EHRC\|EPIC\|HOSP\|\d{14}\+0000\|\|ACK\^S12\^ACK\|[A-Z0-9]+\|P\|2\.5\.1$/);
    expect(segments[1]).toMatch(/^MSA\|AE\|CTRL42\|/);
    expect(segments[2]).toContain('MLLP.UPSTREAM_UNAVAILABLE');
    expect(ack).not.toContain('Doe');
    expect(bridgeAck('', 'AR', 'HL7.MESSAGE_TOO_LARGE')).toMatch(/\rMSA\|AR\|\|/);
  });
});
