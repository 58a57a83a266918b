/**
 * Seeds a demo clinic through the public HTTP interface (so it exercises the same validation as any
 * client): a clinic in New York, three providers with weekly hours, two appointment types, patients
 * with SMS consent (fictional 555-01xx numbers), a few booked appointments tomorrow and waitlist
 * entries. Idempotent: PUTs, and bookings only for slots still free.
 */
import { DateTime } from 'luxon';

export const DEMO_CLINIC_ID = 'riverside';
const ZONE = 'America/New_York';

function principal(roles: string[]): string {
  return Buffer.from(
    JSON.stringify({ auth_typ: 'aad', userId: 'demo-seed', userDetails: 'demo-seed', claims: roles.map((val) => ({ typ: 'roles', val })) }),
  ).toString('base64');
}

export const demoPatients = [
  { patientId: 'pat-ava', name: 'Ava Thompson', phone: '+15555550101', memberId: 'M1001' },
  { patientId: 'pat-ben', name: 'Ben Okafor', phone: '+15555550102', memberId: 'M1002' },
  { patientId: 'pat-chloe', name: 'Chloe Martin', phone: '+15555550103', memberId: 'INACTIVE-1003' },
  { patientId: 'pat-diego', name: 'Diego Ramos', phone: '+15555550104', memberId: 'M1004' },
  { patientId: 'pat-emma', name: 'Emma Schultz', phone: '+15555550105', memberId: 'M1005' },
  { patientId: 'pat-farah', name: 'Farah Haddad', phone: '+15555550106', memberId: 'FLAKY-1006' },
  { patientId: 'pat-gus', name: 'Gus Novak', phone: '+15555550107', memberId: 'M1007' },
];

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;

export interface SeedSummary {
  clinicId: string;
  providers: string[];
  patients: number;
  booked: string[];
  waitlisted: string[];
}

/** Seeds the demo data against a running host at `baseUrl`. */
export async function seedDemo(baseUrl: string, now: DateTime = DateTime.now()): Promise<SeedSummary> {
  const admin = principal(['admin', 'scheduler']);
  const call = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-ms-client-principal': admin, ...extra },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    return { status: res.status, json };
  };
  const must = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body);
    if (r.status >= 300) throw new Error(`seed: ${method} ${path} -> ${r.status} ${String(r.json.code ?? '')}`);
    return r.json;
  };

  await must('PUT', `/api/clinics/${DEMO_CLINIC_ID}`, {
    name: 'Riverside Family Clinic',
    timeZone: ZONE,
    smsDisplayName: 'Riverside Clinic',
    // Short offers so the demo moves quickly; quiet hours off so it works at any hour.
    offerPolicy: {
      batchSize: 3,
      maxRounds: 5,
      expiryFraction: 0.1,
      minExpiryMinutes: 10,
      maxExpiryMinutes: 30,
      minLeadMinutes: 30,
      quietStart: '00:00',
      quietEnd: '00:00',
    },
  });
  await must('PUT', '/api/appointment-types/checkup', { clinicId: DEMO_CLINIC_ID, name: 'Check-up', durationMinutes: 30 });
  await must('PUT', '/api/appointment-types/follow-up', { clinicId: DEMO_CLINIC_ID, name: 'Follow-up', durationMinutes: 20 });
  const providers = [
    {
      providerId: 'dr-lee',
      name: 'Dr. Lee',
      hours: [
        ['09:00', '12:00'],
        ['13:00', '17:00'],
      ],
    },
    { providerId: 'dr-patel', name: 'Dr. Patel', hours: [['08:00', '16:00']] },
    { providerId: 'np-garcia', name: 'NP Garcia', hours: [['10:00', '18:00']] },
  ];
  for (const p of providers) {
    await must('PUT', `/api/providers/${p.providerId}`, {
      clinicId: DEMO_CLINIC_ID,
      name: p.name,
      appointmentTypes: ['checkup', 'follow-up'],
      slotMinutes: 30,
      weeklyHours: weekdays.flatMap((day) => p.hours.map(([start, end]) => ({ day, start, end }))),
    });
  }
  for (const p of demoPatients) {
    await must('PUT', `/api/patients/${p.patientId}`, {
      name: p.name,
      phone: p.phone,
      smsConsent: true,
      coverage: { payerId: 'demo-payer', memberId: p.memberId },
      clinicIds: [DEMO_CLINIC_ID],
    });
  }

  // Bookings with Dr. Lee on the next working day, for the first three patients.
  let day = now.setZone(ZONE).plus({ days: 1 }).startOf('day');
  while (day.weekday > 5) day = day.plus({ days: 1 });
  const slots = await must(
    'GET',
    `/api/slots?clinicId=${DEMO_CLINIC_ID}&appointmentType=checkup&providerId=dr-lee&from=${encodeURIComponent(day.toISO()!)}&to=${encodeURIComponent(day.plus({ days: 1 }).toISO()!)}`,
  );
  const free = (slots.slots as { slotId: string }[]) ?? [];
  const booked: string[] = [];
  for (const [i, p] of demoPatients.slice(0, 3).entries()) {
    const slot = free[i * 2];
    if (!slot) break;
    const r = await call(
      'POST',
      '/api/appointments',
      { slotId: slot.slotId, patientId: p.patientId, appointmentType: 'checkup' },
      { 'idempotency-key': `seed-${p.patientId}-${slot.slotId}` },
    );
    if (r.status === 201 || r.status === 200) booked.push(String(r.json.appointmentId));
  }

  // Waitlist: patients who want an earlier check-up with Dr. Lee (skip if already waitlisted).
  const existing = await must('GET', `/api/waitlist?clinicId=${DEMO_CLINIC_ID}`);
  const already = new Set(((existing.entries as { patientId: string; status: string }[]) ?? []).filter((e) => e.status !== 'removed').map((e) => e.patientId));
  const waitlisted: string[] = [];
  for (const [i, p] of demoPatients.slice(3).entries()) {
    if (already.has(p.patientId)) continue;
    const r = await must('POST', '/api/waitlist', {
      patientId: p.patientId,
      clinicId: DEMO_CLINIC_ID,
      appointmentType: 'checkup',
      providerIds: ['dr-lee'],
      urgency: i === 0 ? 'urgent' : 'routine',
    });
    waitlisted.push(String(r.waitlistEntryId));
  }
  return { clinicId: DEMO_CLINIC_ID, providers: providers.map((p) => p.providerId), patients: demoPatients.length, booked, waitlisted };
}
