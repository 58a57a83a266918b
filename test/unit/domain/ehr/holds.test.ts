/** EHR holds on in-memory ports: built by the same Appointment constructor as bookings; $book of a hold checks the caller's scope. */
import { AccessDenied, bookAppointment, type Actor } from '../../../../domain';
import { bookHold, EhrError, placeHold } from '../../../../domain/ehr';
import { demoDeps } from '../../../fixtures/domain/builders';

const NINE = 'prov-1.20260303T1400';
const ehr: Actor = { kind: 'ehr', principalId: 'epic-interface' };
const request = { slotId: NINE, patientId: 'pat-1', appointmentType: 'checkup', actor: ehr, externalIds: [{ system: 'urn:x', value: '1' }] };

it('a hold is the appointment the same booking would create, proposed instead of booked', async () => {
  const hold = await placeHold(await demoDeps(), request);
  const booking = await bookAppointment(await demoDeps(), { ...request, channel: 'ehr' });
  expect(booking.status).toBe('booked');
  expect(hold).toEqual({ ...booking, status: 'proposed' });
});

it('$book of a hold checks the clinic of the hold it loads: out of scope is AccessDenied and the hold stays; unknown is HOLD.NOT_FOUND', async () => {
  const deps = await demoDeps();
  const hold = await placeHold(deps, request);
  const denied = await bookHold(deps, { appointmentId: hold.appointmentId, actor: ehr, access: { clinic: () => false } }).catch((e: unknown) => e);
  expect(denied).toBeInstanceOf(AccessDenied);
  expect(denied).toMatchObject({ denied: 'clinic', clinicId: 'clinic-1', patientId: 'pat-1' });
  expect(deps.appointments.byId.get(hold.appointmentId)).toEqual(hold);
  const missing = await bookHold(deps, { appointmentId: 'apt-missing', actor: ehr }).catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(EhrError);
  expect(missing).toMatchObject({ code: 'HOLD.NOT_FOUND' });
  expect(await bookHold(deps, { appointmentId: hold.appointmentId, actor: ehr, access: { clinic: (id) => id === 'clinic-1' } })).toMatchObject({
    appointmentId: hold.appointmentId,
    status: 'booked',
  });
});
