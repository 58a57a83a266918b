/**
 * SIU intake as a domain use case: processHl7Message over in-memory ports (no Functions host), with a fixed
 * clock. The HTTP and queue triggers are exercised in test/unit/functions/ehr/hl7v2.test.ts.
 */
import { EventType } from '../../../../domain';
import { HL7_FILLER_SYSTEM, processHl7Message, type Hl7Caller, type SiuIntakeDeps } from '../../../../domain/ehr';
import { InMemoryIdempotency } from '../../../../domain/memory';
import { demoDeps, type TestDeps } from '../../../fixtures/domain/builders';

/** S12 for pat-1 with prov-1 on Tuesday 2026-03-03 09:00 clinic-local (America/New_York); SCH-2 = FL-1. */
const s12 = (controlId = 'CTRL-1', start = '20260303090000') =>
  [`MSH|^~\\&|EPIC|HOSP|||20260302081500||SIU^S12|${controlId}|P|2.5.1`, 'SCH||FL-1', 'PID|||pat-1', `AIS|1||checkup|${start}`, 'AIP|1||prov-1'].join('\r');

const EHR: Hl7Caller = { principalId: 'epic-interface', canAccessClinic: () => true };
let deps: TestDeps & SiuIntakeDeps & { idempotency: InMemoryIdempotency };

beforeEach(async () => {
  deps = { ...(await demoDeps()), idempotency: new InMemoryIdempotency() };
});

const msa = (ack: string) =>
  ack
    .split('\r')
    .find((s) => s.startsWith('MSA|'))
    ?.split('|');
const err5 = (ack: string) =>
  ack
    .split('\r')
    .find((s) => s.startsWith('ERR|'))
    ?.split('|')[5];
const stored = () => [...deps.appointments.byId.values()];

describe('processHl7Message', () => {
  it('S12 books through the scheduling use cases (channel ehr) and answers AA with the control id', async () => {
    const outcome = await processHl7Message(deps, s12(), EHR);
    expect(outcome).toMatchObject({ ackCode: 'AA', controlId: 'CTRL-1', trigger: 'S12', replayed: false });
    expect(msa(outcome.ack)?.slice(0, 3)).toEqual(['MSA', 'AA', 'CTRL-1']);
    expect(stored()).toEqual([
      expect.objectContaining({
        appointmentId: outcome.appointmentId,
        slotId: 'prov-1.20260303T1400',
        patientId: 'pat-1',
        source: 'ehr',
        status: 'booked',
        externalIds: [{ system: HL7_FILLER_SYSTEM, value: 'FL-1' }],
      }),
    ]);
    expect(deps.publisher.published.map((e) => e.type)).toEqual([EventType.appointmentBooked]);
  });

  it('a repeat of the control id replays the stored ACK and books nothing more; another body under it is AE IDEMPOTENCY.KEY_REUSED', async () => {
    const first = await processHl7Message(deps, s12(), EHR);
    const again = await processHl7Message(deps, s12(), EHR);
    expect(again).toMatchObject({ ack: first.ack, ackCode: 'AA', appointmentId: first.appointmentId, replayed: true });
    const reused = await processHl7Message(deps, s12('CTRL-1', '20260303100000'), EHR);
    expect(reused).toMatchObject({ ackCode: 'AE', errorCode: 'IDEMPOTENCY.KEY_REUSED', replayed: false });
    expect(stored()).toHaveLength(1);
  });

  it('a malformed message is AR and reserves no control id', async () => {
    const outcome = await processHl7Message(deps, 'PID|||pat-1', EHR);
    expect(outcome).toMatchObject({ ackCode: 'AR', errorCode: 'HL7.MALFORMED', replayed: false });
    expect(deps.idempotency.records.size).toBe(0);
  });

  it('an interface limited to other clinics gets AE AUTH.CLINIC_FORBIDDEN and nothing is booked', async () => {
    const outcome = await processHl7Message(deps, s12(), { principalId: 'other', canAccessClinic: (id) => id === 'clinic-2' });
    expect(outcome).toMatchObject({ ackCode: 'AE', errorCode: 'AUTH.CLINIC_FORBIDDEN' });
    expect(err5(outcome.ack)).toMatch(/^AUTH\.CLINIC_FORBIDDEN\^/);
    expect(stored()).toEqual([]);
  });

  it('a repeat while the first delivery is still being applied is AE IDEMPOTENCY.IN_PROGRESS (retry later)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const create = deps.appointments.create.bind(deps.appointments);
    deps.appointments.create = async (...args) => {
      await gate;
      return create(...args);
    };
    const first = processHl7Message(deps, s12(), EHR);
    // Let the first delivery reserve the control id and reach the (held) write.
    while (deps.idempotency.records.size === 0) await new Promise((r) => setImmediate(r));
    const repeat = await processHl7Message(deps, s12(), EHR);
    expect(repeat).toMatchObject({ ackCode: 'AE', errorCode: 'IDEMPOTENCY.IN_PROGRESS', inProgress: true });
    release();
    expect((await first).ackCode).toBe('AA');
  });

  it('an unexpected failure throws and frees the control id, so a resend is applied', async () => {
    const create = deps.appointments.create.bind(deps.appointments);
    deps.appointments.create = async () => {
      throw new Error('storage unavailable');
    };
    await expect(processHl7Message(deps, s12(), EHR)).rejects.toThrow('storage unavailable');
    deps.appointments.create = create;
    const resend = await processHl7Message(deps, s12(), EHR);
    expect(resend).toMatchObject({ ackCode: 'AA', replayed: false });
    expect(stored()).toHaveLength(1);
  });
});
