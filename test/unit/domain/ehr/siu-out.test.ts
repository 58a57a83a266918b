/**
 * Outbound SIU (domain/ehr/siu-out.ts): which event is which trigger, the ids in the fields
 * Slotflow's own inbound parser reads (round trip), the EHR's placer/filler ids kept, ids only.
 */
import { bookAppointment, cancelAppointment, EventType, markNoShow, rescheduleAppointment, type SchedulingEvent } from '../../../../domain';
import { HL7_FILLER_SYSTEM, HL7_PLACER_SYSTEM, parseSiu, siuForEvent } from '../../../../domain/ehr';
import { demoDeps, NOW, staff, type TestDeps } from '../../../fixtures/domain/builders';

let deps: TestDeps;
beforeEach(async () => {
  deps = await demoDeps();
});
const last = (type: string): SchedulingEvent => deps.publisher.published.filter((e) => e.type === type).at(-1)!;

it('booked, rescheduled, cancelled, no-show: S12, S13, S15, S26 with the appointment as it stands', async () => {
  const a = await bookAppointment(deps, { slotId: 'prov-1.20260303T1400', patientId: 'pat-1', appointmentType: 'checkup', channel: 'api', actor: staff });
  const s12 = siuForEvent(last(EventType.appointmentBooked), a)!;
  expect(s12.trigger).toBe('S12');
  expect(s12.message.split('\r')[0]).toMatch(/^MSH\|\^~\\&\|SLOTFLOW\|clinic-1\|EHR\|clinic-1\|\d{14}[+-]\d{4}\|\|SIU\^S12\^SIU_S12\|.+\|P\|2\.5\.1$/);

  const moved = await rescheduleAppointment(deps, { appointmentId: a.appointmentId, newSlotId: 'prov-1.20260310T1300', actor: staff, channel: 'backfill' });
  const s13 = siuForEvent(last(EventType.appointmentRescheduled), moved)!;
  const parsed = parseSiu(s13.message);
  if (!parsed.ok) throw new Error(parsed.reject.text);
  expect(parsed.command).toMatchObject({
    trigger: 'S13',
    placerId: a.appointmentId,
    patientIds: ['pat-1'],
    providerIds: ['prov-1'],
    appointmentType: 'checkup',
    clinicId: 'clinic-1',
    start: { local: { year: 2026, month: 3, day: 10, hour: 9, minute: 0 }, offsetMinutes: -240 },
    durationMinutes: 30,
  });
  const sch = s13.message
    .split('\r')
    .find((x) => x.startsWith('SCH|'))!
    .split('|');
  expect([sch[6], sch[25]]).toEqual(['RESCHEDULED^Rescheduled', 'Booked']);
  expect(s13.message).toMatch(/\rNTE\|1\|\|Previous start 20260303090000-0500 slot prov-1\.20260303T1400$/);

  const cancelled = await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'patient-call' });
  const s15 = siuForEvent(last(EventType.appointmentCancelled), cancelled)!;
  expect(s15.trigger).toBe('S15');
  const s15sch = s15.message
    .split('\r')
    .find((x) => x.startsWith('SCH|'))!
    .split('|');
  expect([s15sch[6], s15sch[25]]).toEqual(['patient-call^patient-call', 'Cancelled']);
  expect(parseSiu(s15.message)).toMatchObject({ ok: true, command: { trigger: 'S15', reasonCode: 'ehr-patient-call' } }); // inbound reasons are namespaced

  const b = await bookAppointment(deps, { slotId: 'prov-1.20260302T1400', patientId: 'pat-2', appointmentType: 'checkup', channel: 'api', actor: staff });
  deps.clock.set(NOW.plus({ hours: 1, minutes: 15 }));
  const noShow = await markNoShow(deps, { appointmentId: b.appointmentId, actor: staff });
  expect(siuForEvent(last(EventType.appointmentNoShow), noShow)?.trigger).toBe('S26');
  // Events SIU has no trigger for.
  expect(siuForEvent(last(EventType.slotReleased), noShow)).toBeUndefined();
});

it("keeps the EHR's own placer and filler ids, escapes delimiters, carries no name or phone, and a redelivery has the same control id", async () => {
  const a = await bookAppointment(deps, {
    slotId: 'prov-1.20260303T1400',
    patientId: 'pat-1',
    appointmentType: 'checkup',
    channel: 'ehr',
    actor: { kind: 'ehr', principalId: 'ehr' },
    externalIds: [
      { system: HL7_PLACER_SYSTEM, value: 'P|77' },
      { system: HL7_FILLER_SYSTEM, value: 'F-88' },
    ],
  });
  const event = last(EventType.appointmentBooked);
  const out = siuForEvent(event, a)!;
  expect(out.message).toContain('SCH|P\\F\\77^SLOTFLOW|F-88^EHR|');
  expect(parseSiu(out.message)).toMatchObject({ ok: true, command: { placerId: 'P|77', fillerId: 'F-88' } });
  expect(out.message).not.toMatch(/Pat Example|4155550123/);
  expect(siuForEvent(event, a)!.controlId).toBe(out.controlId);
});
