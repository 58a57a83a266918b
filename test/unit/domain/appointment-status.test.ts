import fc from 'fast-check';
import { appointmentStatuses, canTransition, DomainError, ErrorCode, isFinal, transition, TRANSITIONS, type AppointmentStatus } from '../../../domain';

/**
 * The FHIR R4 Appointment workflow written out independently of domain/appointment-status.ts, so a
 * wrong TRANSITIONS table fails here: requests (proposed, pending, waitlist) become booked or are
 * cancelled; a booked visit is arrived / checked-in and fulfilled, or is cancelled or a noshow;
 * fulfilled, cancelled and noshow are outcomes; anything may be entered-in-error, which is final.
 */
const FHIR_WORKFLOW: Record<AppointmentStatus, AppointmentStatus[]> = {
  proposed: ['pending', 'booked', 'cancelled', 'waitlist', 'entered-in-error'],
  pending: ['booked', 'cancelled', 'waitlist', 'entered-in-error'],
  waitlist: ['proposed', 'pending', 'booked', 'cancelled', 'entered-in-error'],
  booked: ['arrived', 'checked-in', 'cancelled', 'noshow', 'entered-in-error'],
  arrived: ['checked-in', 'fulfilled', 'entered-in-error'],
  'checked-in': ['fulfilled', 'entered-in-error'],
  fulfilled: ['entered-in-error'],
  cancelled: ['entered-in-error'],
  noshow: ['entered-in-error'],
  'entered-in-error': [],
};

const pairs = appointmentStatuses.flatMap((from) => appointmentStatuses.map((to) => [from, to] as const));
const allowed = pairs.filter(([from, to]) => FHIR_WORKFLOW[from].includes(to));
const forbidden = pairs.filter(([from, to]) => !FHIR_WORKFLOW[from].includes(to));

describe('appointment status machine (FHIR R4 Appointment.status)', () => {
  it('covers exactly the ten FHIR statuses', () => {
    expect([...appointmentStatuses].sort()).toEqual(
      ['arrived', 'booked', 'cancelled', 'checked-in', 'entered-in-error', 'fulfilled', 'noshow', 'pending', 'proposed', 'waitlist'].sort(),
    );
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...appointmentStatuses].sort());
  });

  it('the TRANSITIONS table is the FHIR workflow, entry for entry', () => {
    for (const status of appointmentStatuses) expect([...TRANSITIONS[status]].sort()).toEqual([...FHIR_WORKFLOW[status]].sort());
    expect(allowed).toHaveLength(27);
    expect(forbidden).toHaveLength(73);
  });

  it.each(allowed)('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(transition(from, to)).toBe(to);
  });

  it.each(forbidden)('rejects %s -> %s with APPOINTMENT.INVALID_TRANSITION', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let caught: unknown;
    try {
      transition(from, to);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect((caught as DomainError).code).toBe(ErrorCode.INVALID_TRANSITION);
    expect((caught as DomainError).details).toEqual({ from, to });
  });

  it('no status transitions to itself', () => {
    for (const s of appointmentStatuses) expect(canTransition(s, s)).toBe(false);
  });

  it('final statuses are the outcomes and entered-in-error', () => {
    expect(appointmentStatuses.filter(isFinal).sort()).toEqual(['cancelled', 'entered-in-error', 'fulfilled', 'noshow']);
  });

  it('random walks of attempted transitions only ever take allowed steps, and entered-in-error is absorbing', () => {
    const status = fc.constantFrom(...appointmentStatuses);
    fc.assert(
      fc.property(status, fc.array(status, { maxLength: 40 }), (start, attempts) => {
        let current: AppointmentStatus = start;
        for (const target of attempts) {
          const before = current;
          try {
            current = transition(current, target);
          } catch (e) {
            expect(e).toBeInstanceOf(DomainError);
            expect((e as DomainError).code).toBe(ErrorCode.INVALID_TRANSITION);
          }
          if (current !== before) {
            expect(current).toBe(target);
            expect(FHIR_WORKFLOW[before]).toContain(current);
          }
          if (before === 'entered-in-error') expect(current).toBe('entered-in-error');
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('from booked, fulfilled is reachable only through arrived or checked-in', () => {
    expect(canTransition('booked', 'fulfilled')).toBe(false);
    expect(canTransition('booked', 'arrived') && canTransition('arrived', 'fulfilled')).toBe(true);
    expect(canTransition('booked', 'checked-in') && canTransition('checked-in', 'fulfilled')).toBe(true);
  });
});
