import type { Services } from '../../functions/app/services';

/**
 * The orchestration tests' practice: clinic `c1` has a 30-minute `visit` and provider `dr-a`, who
 * works every day around the clock in 30-minute slots, so any test instant has slots.
 */
export async function putAllDayVisitProvider(services: Services): Promise<void> {
  await services.config.putAppointmentType({ code: 'visit', clinicId: 'c1', name: 'Visit', durationMinutes: 30 });
  const allDay = (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).map((day) => ({ day, start: '00:00', end: '24:00' }));
  await services.config.putProvider({
    providerId: 'dr-a',
    clinicId: 'c1',
    name: 'A',
    appointmentTypes: ['visit'],
    weeklyHours: allDay,
    slotMinutes: 30,
    exceptions: [],
  });
}
