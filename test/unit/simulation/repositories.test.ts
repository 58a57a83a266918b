import fc from 'fast-check';
import { freeSlots, type Appointment, type Slot } from '../../../domain';
import type { BusyAppointment } from '../../../domain/ports';
import { InMemoryAppointments, InMemoryWaitlist } from '../../../domain/memory';
import { IndexedAppointments, IndexedWaitlist } from '../../../simulation/repositories';

/**
 * The simulator's indexed adapters against the domain's in-memory ones: the same sequence of writes
 * gives the same outcomes (stored, SLOT_TAKEN, PATIENT_OVERLAP, version conflicts) and the same reads.
 * And freeSlots (now indexed by provider) against the plain definition.
 */

const T0 = Date.parse('2026-03-02T14:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const appointmentArb = fc.record({
  provider: fc.constantFrom('dr-a', 'dr-b'),
  patient: fc.constantFrom('p1', 'p2', 'p3'),
  /** Half-hours from T0, and a length of 1-3 half-hours. */
  at: fc.integer({ min: 0, max: 60 }),
  len: fc.integer({ min: 1, max: 3 }),
  status: fc.constantFrom('booked', 'cancelled', 'noshow', 'pending'),
});

function toAppointment(n: number, a: { provider: string; patient: string; at: number; len: number; status: string }): Appointment {
  const start = T0 + a.at * 1_800_000;
  return {
    appointmentId: `apt-${n}`,
    slotId: `${a.provider}.${a.at}`,
    clinicId: 'c1',
    providerId: a.provider,
    patientId: a.patient,
    appointmentType: 'visit',
    status: a.status as Appointment['status'],
    start: iso(start),
    end: iso(start + a.len * 1_800_000),
    source: 'api',
    createdAt: iso(T0),
    updatedAt: iso(T0),
    version: 1,
    externalIds: [],
  };
}

const outcome = async (f: () => Promise<unknown>) => {
  try {
    await f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? 'error';
  }
};

describe('IndexedAppointments', () => {
  it('behaves as InMemoryAppointments for any sequence of creates and updates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ a: appointmentArb, update: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }) }), { maxLength: 25 }),
        async (ops) => {
          const plain = new InMemoryAppointments();
          const indexed = new IndexedAppointments();
          const window = { clinicId: 'c1', from: iso(T0 + 3_600_000), to: iso(T0 + 20 * 3_600_000) };
          const sortBusy = (xs: { providerId: string; start: string }[]) =>
            [...xs].sort((x, y) => `${x.providerId}${x.start}`.localeCompare(`${y.providerId}${y.start}`));
          const fields = ({ providerId, start, end, status }: BusyAppointment) => ({ providerId, start, end, status });
          // Busy intervals are read after every write too: the indexed adapter keeps each day's occupying list until that day changes.
          const sameBusy = async (q: { clinicId: string; from: string; to: string; providerId?: string }) => {
            const busy = await indexed.listBusy(q);
            expect(sortBusy(busy.map(fields))).toEqual(sortBusy((await plain.listBusy(q)).map(fields)));
            // In order of start, so the slot search's busyIndex takes its one-pass path.
            const starts = busy.map((b) => Date.parse(b.start));
            expect(starts).toEqual([...starts].sort((x, y) => x - y));
          };
          for (const [n, op] of ops.entries()) {
            // An update moves or changes an earlier appointment (same id, the stored version).
            const target = op.update !== undefined && op.update < n ? op.update : undefined;
            const next = toAppointment(target ?? n, op.a);
            if (target !== undefined) {
              const current = await plain.get(`apt-${target}`);
              const version = current?.version ?? 1;
              const changed = { ...next, version: version + 1 };
              expect(await outcome(() => indexed.update(changed, version, []))).toBe(await outcome(() => plain.update(changed, version, [])));
            } else {
              expect(await outcome(() => indexed.create(next, []))).toBe(await outcome(() => plain.create(next, [])));
            }
            await sameBusy(window);
            await sameBusy({ ...window, providerId: next.providerId });
          }
          // The indexed adapter also hands out the parsed instants (BusyAppointment.startMs/endMs); they must be the strings' instants.
          const busy = await indexed.listBusy(window);
          for (const b of busy) expect([b.startMs, b.endMs]).toEqual([Date.parse(b.start), Date.parse(b.end)]);
          expect(sortBusy(busy.map(fields))).toEqual(sortBusy((await plain.listBusy(window)).map(fields)));
          expect((await indexed.list({ ...window, limit: 1000 })).items).toEqual((await plain.list({ ...window, limit: 1000 })).items);
          for (const p of ['p1', 'p2', 'p3']) {
            const byId = (xs: Appointment[]) => [...xs].sort((x, y) => x.appointmentId.localeCompare(y.appointmentId));
            expect(byId(await indexed.listByPatient(p, iso(T0), iso(T0 + 40 * 3_600_000)))).toEqual(
              byId(await plain.listByPatient(p, iso(T0), iso(T0 + 40 * 3_600_000))),
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('IndexedWaitlist', () => {
  it('lists the same active entries as InMemoryWaitlist after status changes', async () => {
    const plain = new InMemoryWaitlist();
    const indexed = new IndexedWaitlist();
    const entry = (id: string, type: string, createdAt: string) => ({
      waitlistEntryId: id,
      clinicId: 'c1',
      patientId: id,
      appointmentType: type,
      providerIds: [],
      urgency: 'routine' as const,
      timeOfDay: 'any' as const,
      status: 'active' as const,
      createdAt,
      updatedAt: createdAt,
      version: 1,
    });
    for (const repo of [plain, indexed]) {
      await repo.add(entry('w1', 'visit', '2026-03-01T10:00:00Z'));
      await repo.add(entry('w2', 'visit', '2026-03-01T09:00:00Z'));
      await repo.add(entry('w3', 'other', '2026-03-01T08:00:00Z'));
      await repo.update({ ...entry('w2', 'visit', '2026-03-01T09:00:00Z'), status: 'offered', version: 2 }, 1);
    }
    const ids = async (r: InMemoryWaitlist | IndexedWaitlist, type?: string) => (await r.listActive('c1', type)).map((e) => e.waitlistEntryId).sort();
    expect(await ids(indexed, 'visit')).toEqual(await ids(plain, 'visit'));
    expect(await ids(indexed)).toEqual(await ids(plain));
    await expect(indexed.update({ ...entry('w1', 'visit', 'x'), version: 5 }, 3)).rejects.toMatchObject({ code: 'APPOINTMENT.CONCURRENT_MODIFICATION' });
  });

  it("by provider, and offered ones: the same entries in the same order as InMemoryWaitlist's filter, through provider changes and status changes", () => {
    const providers = ['dr-a', 'dr-b', 'dr-c'];
    const op = fc.record({
      id: fc.integer({ min: 0, max: 7 }),
      type: fc.constantFrom('visit', 'other'),
      providerIds: fc.array(fc.constantFrom(...providers), { maxLength: 3 }),
      status: fc.constantFrom('active' as const, 'offered' as const, 'removed' as const),
      minute: fc.integer({ min: 0, max: 5 }),
    });
    return fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const plain = new InMemoryWaitlist();
        const indexed = new IndexedWaitlist();
        for (const o of ops) {
          const id = `w${o.id}`;
          const createdAt = `2026-03-01T10:0${o.minute}:00Z`;
          for (const repo of [plain, indexed]) {
            const current = await repo.get(id);
            const e = {
              waitlistEntryId: id,
              clinicId: 'c1',
              patientId: id,
              appointmentType: o.type,
              providerIds: o.providerIds,
              urgency: 'routine' as const,
              timeOfDay: 'any' as const,
              status: o.status,
              createdAt: current?.createdAt ?? createdAt,
              updatedAt: createdAt,
              version: (current?.version ?? 0) + 1,
            };
            if (current) await repo.update(e, current.version);
            else await repo.add(e);
          }
        }
        // The domain adapter lists in insertion order; listActive's order is created, then id.
        const order = (list: { waitlistEntryId: string; createdAt: string }[]) =>
          [...list].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.waitlistEntryId.localeCompare(b.waitlistEntryId)).map((e) => e.waitlistEntryId);
        for (const type of ['visit', 'other', undefined])
          for (const providerId of [...providers, 'dr-none', undefined]) {
            const got = (await indexed.listActive('c1', type, providerId)).map((e) => e.waitlistEntryId);
            expect(got).toEqual(order(await plain.listActive('c1', type, providerId)));
          }
        // Entries holding an offer (offerPolicy.replaceOpenOffers): created, then id, in both.
        for (const type of ['visit', 'other'])
          for (const providerId of [...providers, 'dr-none']) {
            const got = (await indexed.listOffered('c1', type, providerId)).map((e) => e.waitlistEntryId);
            expect(got).toEqual((await plain.listOffered('c1', type, providerId)).map((e) => e.waitlistEntryId));
          }
      }),
      { numRuns: 200 },
    );
  });
});

describe('freeSlots', () => {
  it('equals the plain definition: a slot is free unless an occupying appointment of its provider overlaps it', () => {
    fc.assert(
      fc.property(
        fc.array(appointmentArb, { maxLength: 30 }),
        fc.array(fc.record({ provider: fc.constantFrom('dr-a', 'dr-b'), at: fc.integer({ min: 0, max: 60 }) }), { maxLength: 30 }),
        (booked, wanted) => {
          const appointments = booked.map((a, n) => toAppointment(n, a));
          const slots: Slot[] = wanted.map((w, n) => ({
            slotId: `s${n}`,
            clinicId: 'c1',
            providerId: w.provider,
            start: iso(T0 + w.at * 1_800_000),
            end: iso(T0 + (w.at + 1) * 1_800_000),
            appointmentTypes: ['visit'],
          }));
          const occupying = new Set(['proposed', 'pending', 'booked', 'arrived', 'checked-in', 'fulfilled']);
          const plain = slots.filter(
            (s) =>
              !appointments.some(
                (a) =>
                  occupying.has(a.status) &&
                  a.providerId === s.providerId &&
                  Date.parse(a.start) < Date.parse(s.end) &&
                  Date.parse(s.start) < Date.parse(a.end),
              ),
          );
          expect(freeSlots(slots, appointments)).toEqual(plain);
          // In order of start (how the simulator's listBusy hands them out): busyIndex's one-pass path.
          const byStart = [...appointments].sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
          expect(freeSlots(slots, byStart)).toEqual(plain);
        },
      ),
      { numRuns: 300 },
    );
  });
});
