import { fromAppointment, fromHistoryRow, HistoryInputError, isHistoryInstant, parseHistory, type HistoryRow } from '../../../../domain/risk/history';
import { instantSchema, type Appointment } from '../../../../domain/model';

const row: HistoryRow = {
  appointmentId: 'a-1',
  patientId: 'p-1',
  clinicId: 'c-1',
  providerId: 'dr-1',
  appointmentType: 'FU',
  createdAt: '2026-01-05T10:00:00-05:00',
  start: '2026-01-20T09:00:00-05:00',
  status: 'fulfilled',
};
const line = (r: object) => JSON.stringify(r);

function issuesOf(text: string) {
  try {
    parseHistory(text);
  } catch (e) {
    if (e instanceof HistoryInputError) return e.issues;
    throw e;
  }
  throw new Error('expected a HistoryInputError');
}

describe('history files', () => {
  it('parses one appointment a line and ignores blank lines', () => {
    expect(parseHistory(`${line(row)}\n\n${line({ ...row, appointmentId: 'a-2', status: 'noshow' })}\n`)).toHaveLength(2);
  });

  it('names the line and field of each problem, never the value', () => {
    const text = [
      line(row),
      '{"appointmentId": "a-2", oops',
      line({ ...row, status: 'arrived' }),
      line({ ...row, createdAt: '2026-01-21T09:00:00-05:00' }),
      line({ ...row, start: 'next tuesday' }),
      line({ ...row, patientId: undefined }),
      '[1, 2]',
    ].join('\n');
    const issues = issuesOf(text);
    expect(issues.map((i) => [i.line, i.field])).toEqual([
      [2, '(line)'],
      [3, 'status'],
      [4, 'start'],
      [5, 'start'],
      [6, 'patientId'],
      [7, '(line)'],
    ]);
    expect(issues[1]!.message).toMatch(/unknown status/);
    expect(issues[2]!.message).toBe('is before createdAt');
    expect(JSON.stringify(issues)).not.toMatch(/oops|arrived|next tuesday/);
  });

  it('an empty file is an error', () => {
    expect(issuesOf('\n\n')).toEqual([{ line: 0, field: 'history', message: 'no rows: the file has no appointments' }]);
  });

  it('a cancellation within the window before the start is late', () => {
    const cancelled = { ...row, status: 'cancelled' as const };
    expect(fromHistoryRow({ ...cancelled, cancelledAt: '2026-01-19T12:00:00-05:00' }, 24).outcome).toBe('late-cancel');
    expect(fromHistoryRow({ ...cancelled, cancelledAt: '2026-01-18T12:00:00-05:00' }, 24).outcome).toBe('cancel');
    expect(fromHistoryRow(cancelled, 24).outcome).toBe('cancel');
  });

  describe('no PHI reaches the model', () => {
    const phi = { name: 'Ada Lovelace', phone: '+14155550123', notes: 'patient anxious about results', reason: 'free text' };

    it('the parser drops every field the model does not use', () => {
      const [parsed] = parseHistory(line({ ...row, ...phi }));
      expect(Object.keys(parsed!).sort()).toEqual(Object.keys(row).sort());
      expect(JSON.stringify(fromHistoryRow(parsed!, 24))).not.toMatch(/Ada|4155550123|anxious|free text/);
    });

    it('a stored appointment is copied field by field (its cancellation reason and EHR ids stay behind)', () => {
      const appointment: Appointment = {
        appointmentId: 'a-1',
        slotId: 's-1',
        clinicId: 'c-1',
        providerId: 'dr-1',
        patientId: 'p-1',
        appointmentType: 'FU',
        status: 'cancelled',
        start: '2026-01-20T09:00:00-05:00',
        end: '2026-01-20T09:30:00-05:00',
        source: 'api',
        createdAt: '2026-01-05T10:00:00-05:00',
        updatedAt: '2026-01-19T10:00:00-05:00',
        version: 2,
        cancellation: { reasonCode: phi.notes, at: '2026-01-19T10:00:00-05:00', by: 'patient', late: true },
        externalIds: [{ system: 'urn:ehr', value: phi.name }],
      };
      const past = fromAppointment(appointment)!;
      expect(Object.keys(past).sort()).toEqual(['appointmentId', 'appointmentType', 'createdAt', 'outcome', 'patientId', 'start']);
      expect(past.outcome).toBe('late-cancel');
      expect(JSON.stringify(past)).not.toMatch(/Ada|anxious/);
      expect(fromAppointment({ ...appointment, status: 'booked' })).toBeUndefined();
    });
  });
});

describe('history instants', () => {
  it('accept what the API accepts and refuse impossible dates', () => {
    const cases = [
      '2026-03-09T09:00:00-04:00',
      '2026-03-09T09:00Z',
      '2026-03-09T09:00:00.123+05:30',
      '2024-02-29T00:00:00Z',
      '2026-02-29T00:00:00Z',
      '2026-02-30T10:00:00Z',
      '2026-13-01T10:00:00Z',
      '2026-03-09T24:30:00Z',
      '2026-03-09T09:00:00+25:00',
      '2026-03-09T09:00:00',
      '2026-03-09',
    ];
    for (const iso of cases) expect([iso, isHistoryInstant(iso)]).toEqual([iso, instantSchema.safeParse(iso).success]);
  });
});
