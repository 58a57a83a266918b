/**
 * One simulated clinic network under one policy: the real services (booking, cancellation, waitlist,
 * offers, SMS rules) on indexed in-memory adapters and the virtual clock, the real workflows in the
 * simulation runtime, and stochastic patients whose every draw is keyed by patient (common random
 * numbers across policies). The staff process of the manual-callback policy lives here too.
 */
import { InvocationContext } from '@azure/functions';
import { DateTime } from 'luxon';
import { resolveSlot } from '../domain/scheduling';
import {
  bookAppointment,
  cancelAppointment,
  clinicSchema,
  EventType,
  isDomainError,
  markNoShow,
  offerPolicySchema,
  rescheduleAppointment,
  searchFreeSlots,
  type Actor,
  type Appointment,
  type FreeSlot,
  type OfferPolicy,
  type SchedulingEvent,
  type WaitlistEntry,
} from '../domain';
import { deepFreeze } from '../domain/frozen';
import { SequentialIds } from '../domain/memory';
import { reminderHoursFor, riskBands } from '../domain/risk';
import { handleInboundSms } from '../domain/sms';
import { isEligibleForSlot } from '../domain/waitlist/eligibility';
import { addMoveUpEntry, refreshMoveUp } from '../domain/waitlist/move-up';
import type { OutboundSms, SmsSender } from '../domain/ports';
import { parseClockTime } from '../domain/time';
import { loadSettings } from '../functions/app/config';
import { createInMemoryServices, setServices, type Services } from '../functions/app/services';
import { durableClientInput, offerRepliesOf } from '../functions/patient/durable';
import { bookingLinkIssuerOf } from '../functions/patient/links';
import { durableClientBindingData } from '../local/host/durable/client-api';
import type { FunctionRegistry } from '../local/host/registry';
import { absenceInstanceId, PROVIDER_ABSENCE_ORCHESTRATOR } from '../orchestrations/names';
import { EventLog } from './metrics';
import { KeyedRandom } from './random';
import { DiscardingAudit, IndexedAppointments, IndexedOffers, IndexedPatients, IndexedSmsMessages, IndexedWaitlist, SharedReadConfig } from './repositories';
import { SimulationRuntime, VirtualClock } from './runtime';
import type { ManualCallbackSettings, Scenario, ScenarioClinic } from './scenario';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** Window of the desk's earliest-slot search. */
const SEARCH_WINDOW_MS = 2 * DAY_MS;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export type PolicyKey = 'baseline' | 'manualCallback' | 'slotflow';

/** How freed slots are refilled: the real backfill workflow under an offer policy, or staff calling one patient at a time. */
export type PolicySetup =
  | { key: PolicyKey; label: string; kind: 'backfill'; offerPolicy: OfferPolicy }
  | { key: PolicyKey; label: string; kind: 'manual'; manual: ManualCallbackSettings };

export interface WorldOptions {
  registry: FunctionRegistry;
  seed: number;
  weeks: number;
}

/** What a finished run hands to the metrics. */
export interface WorldResult {
  policy: PolicySetup;
  startMs: number;
  endMs: number;
  log: EventLog;
  appointments: Appointment[];
  waitlist: WaitlistEntry[];
  runtime: SimulationRuntime['stats'];
  openInstances: Record<string, number>;
  /** Scheduled provider minutes in the window, per week. */
  capacityMinutesByWeek: number[];
}

/** Provider ids of a group: `<prefix>-<n>`, or the prefix itself for a group of one. */
export function providerIdsOf(group: ScenarioClinic['providers'][number]): string[] {
  return group.count === 1 ? [group.idPrefix] : Array.from({ length: group.count }, (_, i) => `${group.idPrefix}-${i + 1}`);
}

/** The first instant of the scenario: 00:00 of its start date in the earliest clinic zone. */
export function scenarioStartMs(scenario: Scenario): number {
  return Math.min(...scenario.clinics.map((c) => DateTime.fromISO(scenario.start, { zone: c.timeZone }).startOf('day').toMillis()));
}

/** Simulated SMS: recorded by purpose; offers reach the patient's behaviour model. */
class SimulatedSms implements SmsSender {
  private n = 0;
  onSend?: (m: OutboundSms) => void;
  async send(m: OutboundSms) {
    this.n++;
    const messageId = `SM${this.n.toString(16).padStart(32, '0')}`;
    this.onSend?.(m);
    return { messageId };
  }
}

interface PatientState {
  patientId: string;
  clinicId: string;
  phone: string;
  /** Offers and calls so far: the index of the next contact's draws. */
  contacts: number;
  bookings: number;
  priorNoShow: boolean;
  urgent: boolean;
  requestedMs?: number;
}

export class SimulatedWorld {
  readonly clock: VirtualClock;
  readonly runtime: SimulationRuntime;
  readonly services: Services;
  readonly log = new EventLog();
  private readonly random: KeyedRandom;
  private readonly appointments = new IndexedAppointments();
  private readonly waitlist = new IndexedWaitlist();
  private readonly sms = new SimulatedSms();
  private readonly patients = new Map<string, PatientState>();
  readonly startMs: number;
  readonly endMs: number;
  private phoneCounter = 0;
  private smsCounter = 0;
  private readonly staff = new Map<string, StaffDesk>();
  /** Per clinic and type: no free slot in [fromMs, untilMs) as of the last search (see earliestFree). */
  private readonly fullUntil = new Map<string, { fromMs: number; untilMs: number }>();
  private readonly bindingData = deepFreeze(durableClientBindingData('http://slotflow-simulator.invalid/'));
  /** Per clinic: the longest reminder lead of any risk band (set by configure). */
  private readonly reminderLeadMs = new Map<string, number>();
  /** Visits whose booking the reminders subscription did not get (see remindersInScope). */
  private readonly beyondReminders = new Set<string>();

  constructor(
    readonly scenario: Scenario,
    readonly policy: PolicySetup,
    options: WorldOptions,
  ) {
    this.random = new KeyedRandom(options.seed);
    this.startMs = scenarioStartMs(scenario);
    this.endMs = this.startMs + options.weeks * 7 * DAY_MS;
    this.clock = new VirtualClock(this.startMs);
    const subscriptions = policy.kind === 'manual' ? ['reminders', 'provider-absence'] : ['backfill', 'reminders', 'provider-absence'];
    this.runtime = new SimulationRuntime({
      registry: options.registry,
      clock: this.clock,
      subscriptions,
      accepts: (subscription, event) => subscription !== 'reminders' || this.remindersInScope(event),
    });
    this.services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local', SMS_MODE: 'outbox' }), {
      clock: this.clock,
      ids: new SequentialIds(),
      publisher: this.runtime.publisher,
      appointments: this.appointments,
      waitlist: this.waitlist,
      offers: new IndexedOffers(),
      patients: new IndexedPatients(),
      audit: new DiscardingAudit(),
      config: new SharedReadConfig(),
      smsMessages: new IndexedSmsMessages(),
      sms: this.sms,
    });
    this.sms.onSend = (m) => this.onSms(m);
    this.runtime.onPublished = (e) => this.onEvent(e);
    this.runtime.onInstanceDone = (d) => this.log.instanceDone(d);
  }

  /** Runs the whole scenario under this world's policy. */
  async run(): Promise<WorldResult> {
    await this.setUp();
    return this.finish();
  }

  /**
   * Configures the clinics, pre-books the horizon and schedules demand, no-show checks and absences;
   * the process-wide services are this world's until finish(). Tests may schedule more between the two.
   */
  async setUp(): Promise<void> {
    setServices(this.services);
    await this.configure();
    const t0 = performance.now();
    await this.prefill();
    this.runtime.stats.timings['sim:prefill'] = performance.now() - t0;
    this.scheduleDemand();
    this.scheduleNoShowSweeps();
    this.scheduleAbsences();
  }

  /** Runs to the end of the scenario and collects what happened. */
  async finish(): Promise<WorldResult> {
    try {
      await this.runtime.runUntil(this.endMs);
    } finally {
      setServices(undefined);
    }
    return {
      policy: this.policy,
      startMs: this.startMs,
      endMs: this.endMs,
      log: this.log,
      appointments: [...this.appointments.all()],
      waitlist: [...this.waitlist.all()],
      runtime: { ...this.runtime.stats },
      openInstances: Object.fromEntries(this.runtime.openInstances()),
      capacityMinutesByWeek: await this.capacityByWeek(),
    };
  }

  // --- configuration ---------------------------------------------------------------------------------

  private async configure(): Promise<void> {
    const s = this.services;
    for (const c of this.scenario.clinics) {
      await s.config.putClinic(
        clinicSchema.parse({
          clinicId: c.clinicId,
          name: c.name ?? c.clinicId,
          timeZone: c.timeZone,
          bookingPolicy: { maxHorizonDays: this.scenario.horizonDays + 7 * this.scenario.weeks + 7, minNoticeMinutes: 60 },
          offerPolicy: this.policy.kind === 'backfill' ? this.policy.offerPolicy : offerPolicySchema.parse({}),
          reminderHoursBefore: c.reminderHoursBefore,
        }),
      );
      const clinic = (await s.config.getClinic(c.clinicId))!;
      const hours = [undefined, ...riskBands].flatMap((band) => reminderHoursFor(clinic, band));
      this.reminderLeadMs.set(c.clinicId, Math.max(0, ...hours) * HOUR_MS);
      for (const t of c.appointmentTypes)
        await s.config.putAppointmentType({ code: t.code, clinicId: c.clinicId, name: t.name ?? t.code, durationMinutes: t.durationMinutes });
      for (const group of c.providers) {
        const weeklyHours = group.hours.flatMap((h) => h.days.map((day) => ({ day, start: h.start, end: h.end })));
        for (const providerId of providerIdsOf(group)) {
          await s.config.putProvider({
            providerId,
            clinicId: c.clinicId,
            name: providerId,
            appointmentTypes: group.appointmentTypes,
            weeklyHours,
            ...(group.slotMinutes ? { slotMinutes: group.slotMinutes } : {}),
            exceptions: [],
          });
        }
      }
    }
  }

  private async capacityByWeek(): Promise<number[]> {
    const weeks = Math.round((this.endMs - this.startMs) / (7 * DAY_MS));
    const out = new Array<number>(weeks).fill(0);
    for (const c of this.scenario.clinics) {
      for (const slot of await this.freeOrAllSlots(c, this.startMs, this.endMs, true)) {
        const w = Math.floor((Date.parse(slot.start) - this.startMs) / (7 * DAY_MS));
        if (w >= 0 && w < weeks) out[w]! += (Date.parse(slot.end) - Date.parse(slot.start)) / MINUTE_MS;
      }
    }
    return out;
  }

  /** Every slot of a clinic in [from, to) (all: ignoring bookings, through an empty appointment view), deduplicated across types. */
  private async freeOrAllSlots(c: ScenarioClinic, fromMs: number, toMs: number, all = false): Promise<FreeSlot[]> {
    const byId = new Map<string, FreeSlot>();
    const deps = all ? { config: this.services.config, appointments: new IndexedAppointments() } : this.services;
    for (const t of c.appointmentTypes) {
      for (let from = fromMs; from < toMs; from += 28 * DAY_MS) {
        const to = Math.min(toMs, from + 28 * DAY_MS);
        const slots = await searchFreeSlots(deps, {
          clinicId: c.clinicId,
          appointmentType: t.code,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
        });
        for (const slot of slots) if (!byId.has(slot.slotId)) byId.set(slot.slotId, slot);
      }
    }
    return [...byId.values()].sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.slotId.localeCompare(b.slotId));
  }

  // --- patients ------------------------------------------------------------------------------------

  /** A simulated patient (record and behaviour state); tests add their own. */
  async newPatient(patientId: string, clinicId: string, urgent: boolean): Promise<PatientState> {
    const b = this.scenario.behaviour.noShow;
    const priorNoShow = this.random.chance(b.priorNoShowShare, 'prior-noshow', patientId);
    this.phoneCounter++;
    const state: PatientState = {
      patientId,
      clinicId,
      phone: `+1555${String(this.phoneCounter).padStart(7, '0')}`,
      contacts: 0,
      bookings: 0,
      priorNoShow,
      urgent,
    };
    this.patients.set(patientId, state);
    const at = new Date(this.clock.ms).toISOString();
    await this.services.patients.put({
      patientId,
      name: 'Simulated patient',
      phone: state.phone,
      smsConsent: true,
      clinicIds: [],
      noShows: priorNoShow ? [new Date(this.startMs - 90 * DAY_MS).toISOString()] : [],
      updatedAt: at,
    });
    return state;
  }

  /** Pre-books the horizon to the clinic's initial fill, as if the clinic had been running. */
  private async prefill(): Promise<void> {
    const staff: Actor = { kind: 'staff', principalId: 'sim-prefill' };
    for (const [ci, c] of this.scenario.clinics.entries()) {
      const slots = await this.freeOrAllSlots(c, this.startMs, this.startMs + this.scenario.horizonDays * DAY_MS);
      const weights = c.appointmentTypes.map((t) => t.weight);
      let n = 0;
      for (const slot of slots) {
        if (!this.random.chance(c.demand.initialFill, 'fill', c.clinicId, slot.slotId)) continue;
        const patientId = `p${ci}-init-${++n}`;
        const startMs = Date.parse(slot.start);
        // Booked some time before the run: between 0 and 4 weeks before it.
        const bookedMs = this.startMs - this.random.uniform('booked-before', patientId) * 28 * DAY_MS;
        const cancelAt = this.cancellationTime(patientId, 1, bookedMs, startMs);
        // A cancellation that happened before the run leaves the slot free.
        if (cancelAt !== undefined && cancelAt < this.startMs) continue;
        const type = c.appointmentTypes[this.random.weighted(weights, 'type', patientId)]!.code;
        const fits = slot.appointmentTypes.includes(type) ? type : slot.appointmentTypes[0]!;
        const urgent = this.random.chance(c.demand.urgentShare, 'urgent', patientId);
        const patient = await this.newPatient(patientId, c.clinicId, urgent);
        let appointment: Appointment;
        // Booked (and put on the move-up list) when it was, before the run: its lead time and its place on the list follow.
        this.clock.ms = bookedMs;
        try {
          appointment = await bookAppointment(this.services, { slotId: slot.slotId, patientId, appointmentType: fits, channel: 'api', actor: staff });
          patient.bookings = 1;
          if (cancelAt !== undefined) this.scheduleCancellation(patient, appointment.appointmentId, cancelAt);
          await this.maybeMoveUp(c, patientId, appointment, urgent);
        } catch (e) {
          if (isDomainError(e)) continue;
          throw e;
        } finally {
          this.clock.ms = this.startMs;
        }
      }
    }
  }

  /** Urgent patients, and a share of the others, ask to be moved earlier (a share of them with their own provider only). */
  private async maybeMoveUp(c: ScenarioClinic, patientId: string, appointment: Appointment, urgent: boolean): Promise<void> {
    if (!urgent && !this.random.chance(c.demand.moveUpShare, 'move-up', patientId)) return;
    const ownProvider = this.random.chance(c.demand.sameProviderShare, 'own-provider', patientId);
    await addMoveUpEntry(this.services, {
      appointmentId: appointment.appointmentId,
      urgency: urgent ? 'urgent' : 'routine',
      ...(ownProvider ? { providerIds: [appointment.providerId] } : {}),
    });
  }

  /** When (if at all) a booking made at bookedMs for a visit at startMs is cancelled: lead time drives the probability. */
  private cancellationTime(patientId: string, booking: number, bookedMs: number, startMs: number): number | undefined {
    const b = this.scenario.behaviour.cancellation;
    const leadWeeks = Math.max(0, (startMs - bookedMs) / (7 * DAY_MS));
    const p = Math.min(b.max, b.base + b.perWeekLead * leadWeeks);
    if (!this.random.chance(p, 'cancel', patientId, booking)) return undefined;
    const u = this.random.uniform('cancel-at', patientId, booking);
    const lateFrom = Math.max(bookedMs, startMs - 48 * HOUR_MS);
    if (this.random.chance(b.lateShare, 'cancel-late', patientId, booking) || lateFrom <= bookedMs) return lateFrom + u * (startMs - HOUR_MS - lateFrom);
    return bookedMs + u * (lateFrom - bookedMs);
  }

  private scheduleCancellation(patient: PatientState, appointmentId: string, atMs: number): void {
    this.runtime.at(
      atMs,
      async () => {
        const a = await this.services.appointments.get(appointmentId);
        if (!a || (a.status !== 'booked' && a.status !== 'pending') || Date.parse(a.start) <= this.clock.ms) return;
        const clinic = await this.services.config.getClinic(a.clinicId);
        const windowMs = (clinic?.bookingPolicy.cancellationWindowHours ?? 24) * HOUR_MS;
        // Inside the cancellation window a patient cannot cancel themselves: they call the desk.
        const actor: Actor =
          Date.parse(a.start) - this.clock.ms > windowMs ? { kind: 'patient', principalId: patient.patientId } : { kind: 'staff', principalId: 'sim-desk' };
        await cancelAppointment(this.services, { appointmentId, actor, reasonCode: 'patient-request' });
      },
      'sim:cancellation',
    );
  }

  /** New requests and waitlist arrivals per clinic-local working day (Poisson counts, uniform times 08:00-18:00). */
  private scheduleDemand(): void {
    const days = Math.round((this.endMs - this.startMs) / DAY_MS);
    for (const [ci, c] of this.scenario.clinics.entries()) {
      const start = DateTime.fromISO(this.scenario.start, { zone: c.timeZone }).startOf('day');
      for (let d = 0; d < days; d++) {
        const day = start.plus({ days: d });
        const weekday = WEEKDAYS[day.weekday - 1]!;
        const working = c.providers.reduce((n, g) => n + (g.hours.some((h) => h.days.includes(weekday)) ? g.count : 0), 0);
        if (working === 0) continue;
        const requests = this.random.poisson(c.demand.requestsPerProviderDay * working, 'requests', c.clinicId, d);
        for (let k = 0; k < requests; k++) {
          const patientId = `p${ci}-d${d}-r${k}`;
          const at = day.plus({ minutes: 8 * 60 + Math.floor(this.random.uniform('request-at', patientId) * 600) }).toMillis();
          this.runtime.at(at, () => this.request(c, patientId), 'sim:request');
        }
        const arrivals = this.random.poisson(c.demand.waitlistArrivalsPerDay, 'arrivals', c.clinicId, d);
        for (let k = 0; k < arrivals; k++) {
          const patientId = `p${ci}-d${d}-w${k}`;
          const at = day.plus({ minutes: 8 * 60 + Math.floor(this.random.uniform('arrival-at', patientId) * 600) }).toMillis();
          this.runtime.at(at, () => this.joinWaitlist(c, patientId), 'sim:waitlist-arrival');
        }
      }
    }
  }

  /** A new patient turns up (at the desk or for the waitlist): urgency and visit type drawn, the request logged. */
  private async arrive(c: ScenarioClinic, patientId: string) {
    const urgent = this.random.chance(c.demand.urgentShare, 'urgent', patientId);
    const patient = await this.newPatient(patientId, c.clinicId, urgent);
    patient.requestedMs = this.clock.ms;
    this.log.request(patientId, c.clinicId, this.clock.ms, urgent);
    const type =
      c.appointmentTypes[
        this.random.weighted(
          c.appointmentTypes.map((t) => t.weight),
          'type',
          patientId,
        )
      ]!.code;
    return { patient, urgent, type };
  }

  /** A patient asks for an appointment: the earliest free slot after their minimum lead, and perhaps a move-up request. */
  private async request(c: ScenarioClinic, patientId: string): Promise<void> {
    const { patient, urgent, type } = await this.arrive(c, patientId);
    const lead = c.demand.minLeadDays;
    const minLeadMs = (lead.min + this.random.uniform('lead', patientId) * Math.max(0, lead.max - lead.min)) * DAY_MS;
    const slot = await this.earliestFree(c, type, this.clock.ms + Math.max(minLeadMs, HOUR_MS));
    if (!slot) {
      await this.addPlainEntry(c, patientId, type, urgent);
      return;
    }
    const appointment = await bookAppointment(this.services, {
      slotId: slot.slotId,
      patientId,
      appointmentType: type,
      channel: 'api',
      actor: { kind: 'staff', principalId: 'sim-desk' },
    });
    patient.bookings++;
    const cancelAt = this.cancellationTime(patientId, patient.bookings, this.clock.ms, Date.parse(appointment.start));
    if (cancelAt !== undefined) this.scheduleCancellation(patient, appointment.appointmentId, cancelAt);
    await this.maybeMoveUp(c, patientId, appointment, urgent);
  }

  private async earliestFree(c: ScenarioClinic, type: string, fromMs: number): Promise<FreeSlot | undefined> {
    const horizonMs = this.clock.ms + this.scenario.horizonDays * DAY_MS;
    // Where an earlier search found the book full (exact: only a release frees time, and each release clears the hint).
    const key = `${c.clinicId}|${type}`;
    const hint = this.fullUntil.get(key);
    const skipTo = hint && hint.fromMs <= fromMs && hint.untilMs > fromMs ? hint.untilMs : undefined;
    const searchFrom = hint && skipTo !== undefined ? hint.fromMs : fromMs;
    // Two-day windows from a UTC midnight: the same windows all day, so slot generation is remembered (SlotGenerationMemo).
    for (let from = Math.floor((skipTo ?? fromMs) / DAY_MS) * DAY_MS; from < horizonMs; from += SEARCH_WINDOW_MS) {
      const slots = await searchFreeSlots(this.services, {
        clinicId: c.clinicId,
        appointmentType: type,
        from: new Date(from).toISOString(),
        to: new Date(from + SEARCH_WINDOW_MS).toISOString(),
        bookableBy: { now: this.clock.now(), channel: 'api' },
      });
      // The earliest in [fromMs, horizon), ties by slot id: one pass, each start parsed once.
      let first: FreeSlot | undefined;
      let firstMs = Number.POSITIVE_INFINITY;
      for (const slot of slots) {
        const ms = Date.parse(slot.start);
        if (ms < fromMs || ms >= horizonMs) continue;
        if (ms < firstMs || (ms === firstMs && slot.slotId.localeCompare(first!.slotId) < 0)) [first, firstMs] = [slot, ms];
      }
      if (first) {
        if (from > searchFrom) this.fullUntil.set(key, { fromMs: searchFrom, untilMs: from });
        return first;
      }
    }
    this.fullUntil.set(key, { fromMs: searchFrom, untilMs: horizonMs });
    return undefined;
  }

  private async joinWaitlist(c: ScenarioClinic, patientId: string): Promise<void> {
    const { urgent, type } = await this.arrive(c, patientId);
    await this.addPlainEntry(c, patientId, type, urgent);
  }

  private async addPlainEntry(c: ScenarioClinic, patientId: string, type: string, urgent: boolean): Promise<void> {
    const at = new Date(this.clock.ms).toISOString();
    const providers = c.providers.filter((g) => g.appointmentTypes.includes(type)).flatMap(providerIdsOf);
    const ownProvider = providers.length > 0 && this.random.chance(c.demand.sameProviderShare, 'own-provider', patientId);
    await this.services.waitlist.add({
      waitlistEntryId: `wl-${patientId}`,
      clinicId: c.clinicId,
      patientId,
      appointmentType: type,
      providerIds: ownProvider ? [providers[this.random.integer(0, providers.length - 1, 'provider', patientId)]!] : [],
      urgency: urgent ? 'urgent' : 'routine',
      timeOfDay: 'any',
      status: 'active',
      createdAt: at,
      updatedAt: at,
      version: 1,
    });
  }

  /** Every hour: visits that started in the last hour and are still booked are attended, or no-shows. */
  private scheduleNoShowSweeps(): void {
    const b = this.scenario.behaviour.noShow;
    for (let at = this.startMs + HOUR_MS; at <= this.endMs; at += HOUR_MS) {
      this.runtime.at(
        at,
        async () => {
          for (const c of this.scenario.clinics) {
            const started = await this.services.appointments.list({
              clinicId: c.clinicId,
              from: new Date(at - HOUR_MS).toISOString(),
              to: new Date(at).toISOString(),
              limit: 10_000,
            });
            for (const a of started.items) {
              if (a.status !== 'booked' && a.status !== 'pending') continue;
              const patient = this.patients.get(a.patientId);
              const leadWeeks = Math.max(0, (Date.parse(a.start) - Date.parse(a.createdAt)) / (7 * DAY_MS));
              const p = Math.min(b.max, (b.base + b.perWeekLead * leadWeeks) * (patient?.priorNoShow ? b.priorNoShowMultiplier : 1));
              if (!this.random.chance(p, 'noshow', a.patientId, patient?.bookings ?? 1)) continue;
              await markNoShow(this.services, { appointmentId: a.appointmentId, actor: { kind: 'staff', principalId: 'sim-desk' } });
            }
          }
        },
        'sim:noshow-sweep',
      );
    }
  }

  private scheduleAbsences(): void {
    for (const c of this.scenario.clinics) {
      const start = DateTime.fromISO(this.scenario.start, { zone: c.timeZone }).startOf('day');
      for (const a of c.absences) {
        const from = start.plus({ days: a.fromDay });
        const to = from.plus({ days: a.days });
        this.runtime.at(start.plus({ days: a.announcedDay, hours: 9 }).toMillis(), () => {
          const input = { providerId: a.providerId, from: from.toUTC().toISO()!, to: to.toUTC().toISO()!, reasonCode: 'sick-leave' };
          // What POST /api/providers/{id}/absences does: start the workflow with the window's deterministic id.
          this.runtime.startNew(PROVIDER_ABSENCE_ORCHESTRATOR, absenceInstanceId(input.providerId, input.from, input.to), input);
        });
      }
    }
  }

  // --- reactions -------------------------------------------------------------------------------------

  /**
   * Whether the reminders subscription gets `event`. A visit that starts more than the clinic's longest
   * reminder lead after the simulated period has no reminder inside it: its workflow would only wait
   * (a 5-day timer step at a time), so its booking is not delivered, nor what follows for it, until a
   * reschedule brings it within reach; that delivery starts the workflow for the new time, as the
   * trigger does for a workflow that has finished. Every reminder of the period is sent as before.
   */
  private remindersInScope(event: SchedulingEvent): boolean {
    const data = event.data as { appointmentId?: string; clinicId?: string; start?: string };
    if (!data.appointmentId || !data.start || !data.clinicId) return true;
    const beyond = Date.parse(data.start) - (this.reminderLeadMs.get(data.clinicId) ?? 0) >= this.endMs;
    if (event.type === EventType.appointmentBooked) {
      if (beyond) this.beyondReminders.add(data.appointmentId);
      return !beyond;
    }
    if (!this.beyondReminders.has(data.appointmentId)) return true;
    if (event.type === EventType.appointmentRescheduled && !beyond) {
      this.beyondReminders.delete(data.appointmentId);
      return true;
    }
    return false;
  }

  private onEvent(event: SchedulingEvent): void {
    this.log.event(event, this.clock.ms);
    if (event.type === 'health.scheduling.slot.released.v1') {
      const data = event.data as { clinicId: string; appointmentType: string; start: string };
      // The book is still full before the released slot's day: the hint shrinks to there.
      for (const [key, hint] of this.fullUntil) {
        if (!key.startsWith(`${data.clinicId}|`)) continue;
        const start = Date.parse(data.start);
        if (start >= hint.fromMs && start < hint.untilMs) hint.untilMs = Math.floor(start / DAY_MS) * DAY_MS;
      }
    }
    if (this.policy.kind === 'manual' && event.type === 'health.scheduling.slot.released.v1') {
      const data = event.data as { slotId: string; clinicId: string; appointmentType: string; start: string };
      this.deskOf(data.clinicId).released(data.slotId, data.appointmentType);
    }
  }

  private onSms(m: OutboundSms): void {
    this.log.sms(m, this.clock.ms);
    if (m.purpose !== 'offer') return;
    const patient = this.patients.get(m.patientId);
    if (!patient) return;
    const k = patient.contacts++;
    const sentMs = this.clock.ms;
    const instanceId = m.correlationId;
    // The offer was recorded just before its SMS: the patient's newest open offer of this workflow.
    this.runtime.at(sentMs, async () => {
      const offer = (await this.services.offers.listOpenForPatient(patient.patientId)).find((o) => o.workflowInstanceId === instanceId);
      if (!offer) return;
      const weeksSooner = offer.moveUp ? Math.max(0, (Date.parse(offer.moveUp.start) - Date.parse(await this.slotStart(offer.slotId))) / (7 * DAY_MS)) : 0;
      const reply = this.decide(patient, k, weeksSooner);
      if (!reply) return;
      this.runtime.at(sentMs + reply.delayMs, () => this.reply(patient, reply.body), 'sim:sms-reply');
    });
  }

  private async slotStart(slotId: string): Promise<string> {
    return (await resolveSlot(this.services, slotId)).slot.start;
  }

  /** A keyed draw (for the staff desk: whether a called patient picks up). */
  chance(p: number, ...key: (string | number)[]): boolean {
    return this.random.chance(p, ...key);
  }

  /** The patient's answer to their k-th contact (offer or call): the same draws under every policy. */
  decide(patient: PatientState, k: number, weeksSooner: number): { body: 'YES' | 'NO'; delayMs: number } | undefined {
    const o = this.scenario.behaviour.offer;
    if (this.random.chance(o.neverReply, 'never', patient.patientId, k)) return undefined;
    const p = Math.min(1, o.acceptance + o.acceptancePerWeekSooner * weeksSooner);
    const delayMs = Math.max(MINUTE_MS, this.random.logNormal(o.replyDelayMinutes.median, o.replyDelayMinutes.p90, 'delay', patient.patientId, k) * MINUTE_MS);
    if (this.random.chance(p, 'accept', patient.patientId, k)) return { body: 'YES', delayMs };
    if (this.random.chance(o.declineReplyShare, 'decline', patient.patientId, k)) return { body: 'NO', delayMs };
    return undefined;
  }

  /** An inbound SMS through the real reply handling, whose durable client raises the reply on the workflow. */
  private async reply(patient: PatientState, body: string): Promise<void> {
    const context = new InvocationContext({
      functionName: 'smsInbound',
      invocationId: `sim-sms-${++this.smsCounter}`,
      options: { trigger: { type: 'httpTrigger', name: 'request' }, extraInputs: [durableClientInput], extraOutputs: [] },
      logHandler: () => undefined,
    });
    context.extraInputs.set(durableClientInput, this.bindingData);
    const messageSid = `SM${(0x10000000 + this.smsCounter).toString(16).padStart(32, 'f')}`;
    await handleInboundSms(this.services, offerRepliesOf(context), { messageSid, from: patient.phone, body }, bookingLinkIssuerOf(this.services));
  }

  private deskOf(clinicId: string): StaffDesk {
    let desk = this.staff.get(clinicId);
    if (!desk) {
      if (this.policy.kind !== 'manual') throw new Error('no staff desk outside the manual policy');
      const c = this.scenario.clinics.find((x) => x.clinicId === clinicId)!;
      this.staff.set(clinicId, (desk = new StaffDesk(this, c, this.policy.manual)));
    }
    return desk;
  }

  /** For the staff desk: patient state by id. */
  patient(patientId: string): PatientState | undefined {
    return this.patients.get(patientId);
  }
}

/**
 * First-come-first-served manual callback: one staff member per clinic works freed slots in the
 * order they were freed, during office hours, calling waitlisted patients one at a time in the order
 * they joined the list. A call takes callMinutes; a patient who picks up answers as they would an
 * offer. A YES is booked (or the appointment moved) through the same use cases the console uses.
 */
class StaffDesk {
  private readonly queue: { slotId: string; appointmentType: string; calls: number; called: Set<string> }[] = [];
  private busy = false;

  constructor(
    private readonly world: SimulatedWorld,
    private readonly clinic: ScenarioClinic,
    private readonly settings: ManualCallbackSettings,
  ) {}

  released(slotId: string, appointmentType: string): void {
    this.queue.push({ slotId, appointmentType, calls: 0, called: new Set() });
    if (!this.busy) {
      this.busy = true;
      this.world.runtime.at(this.world.clock.ms, () => this.work());
    }
  }

  private officeOpenAt(ms: number): number | undefined {
    const h = this.settings.officeHours;
    const local = DateTime.fromMillis(ms, { zone: this.clinic.timeZone });
    const minute = local.hour * 60 + local.minute;
    if (h.days.includes(WEEKDAYS[local.weekday - 1]!) && minute >= parseClockTime(h.start) && minute + this.settings.callMinutes <= parseClockTime(h.end))
      return undefined;
    // The next opening.
    for (let d = 0; d < 8; d++) {
      const day = local.startOf('day').plus({ days: d });
      if (!h.days.includes(WEEKDAYS[day.weekday - 1]!)) continue;
      const open = day.plus({ minutes: parseClockTime(h.start) }).toMillis();
      if (open > ms) return open;
    }
    return ms + DAY_MS;
  }

  private async work(): Promise<void> {
    const now = this.world.clock.ms;
    const nextOpen = this.officeOpenAt(now);
    if (nextOpen !== undefined) {
      this.world.runtime.at(nextOpen, () => this.work());
      return;
    }
    for (;;) {
      const head = this.queue[0];
      if (!head) {
        this.busy = false;
        return;
      }
      const candidate = await this.nextCandidate(head);
      if (!candidate) {
        this.queue.shift();
        continue;
      }
      head.calls++;
      head.called.add(candidate.waitlistEntryId);
      const patient = this.world.patient(candidate.patientId);
      const k = patient ? patient.contacts++ : 0;
      this.world.log.call(candidate.patientId, head.slotId, now);
      const slotStart = Date.parse((await this.slotOf(head.slotId))!.start);
      const weeksSooner = candidate.moveUp ? Math.max(0, (Date.parse(candidate.moveUp.start) - slotStart) / (7 * DAY_MS)) : 0;
      const answered = patient !== undefined && this.world.chance(this.settings.answerProbability, 'answer', candidate.patientId, k);
      const reply = answered && patient ? this.world.decide(patient, k, weeksSooner) : undefined;
      const callEnds = now + this.settings.callMinutes * MINUTE_MS;
      this.world.runtime.at(callEnds, async () => {
        if (reply?.body === 'YES') {
          const booked = await this.book(head.slotId, candidate);
          if (booked) this.queue.splice(this.queue.indexOf(head), 1);
        }
        await this.work();
      });
      return;
    }
  }

  private async slotOf(slotId: string) {
    try {
      return (await resolveSlot(this.world.services, slotId)).slot;
    } catch {
      return undefined;
    }
  }

  /** The next patient to call for the slot, or undefined when the slot is gone, too close, or nobody is left. */
  private async nextCandidate(head: StaffDesk['queue'][number]): Promise<WaitlistEntry | undefined> {
    if (head.calls >= this.settings.maxCallsPerSlot) return undefined;
    const services = this.world.services;
    const slot = await this.slotOf(head.slotId);
    if (!slot || Date.parse(slot.start) - this.world.clock.ms < this.settings.minLeadMinutes * MINUTE_MS) return undefined;
    const free = await searchFreeSlots(services, {
      clinicId: slot.clinicId,
      appointmentType: head.appointmentType,
      providerId: slot.providerId,
      from: slot.start,
      to: new Date(Date.parse(slot.start) + MINUTE_MS).toISOString(),
    });
    if (!free.some((s) => s.slotId === slot.slotId)) return undefined;
    const entries = (await services.waitlist.listActive(slot.clinicId, head.appointmentType))
      .filter((e) => !head.called.has(e.waitlistEntryId))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.waitlistEntryId.localeCompare(b.waitlistEntryId));
    for (const listed of entries) {
      const entry = await refreshMoveUp(services, listed);
      if (entry && isEligibleForSlot(entry, slot, head.appointmentType)) return entry;
    }
    return undefined;
  }

  /** Books the slot for the patient who said yes on the phone (moves a move-up's appointment); false when it failed. */
  private async book(slotId: string, entry: WaitlistEntry): Promise<boolean> {
    const services = this.world.services;
    const actor: Actor = { kind: 'staff', principalId: 'sim-desk' };
    const current = await services.waitlist.get(entry.waitlistEntryId);
    if (!current || current.status !== 'active') return false;
    try {
      if (entry.moveUp) {
        await rescheduleAppointment(services, {
          appointmentId: entry.moveUp.appointmentId,
          newSlotId: slotId,
          actor,
          channel: 'console',
          expectedSlotId: entry.moveUp.slotId,
        });
      } else {
        await bookAppointment(services, { slotId, patientId: entry.patientId, appointmentType: entry.appointmentType, channel: 'console', actor });
      }
    } catch (e) {
      if (isDomainError(e)) return false;
      throw e;
    }
    const at = new Date(this.world.clock.ms).toISOString();
    await services.waitlist.update({ ...current, status: 'booked', updatedAt: at, version: current.version + 1 }, current.version);
    this.world.log.callBooked(entry.patientId, slotId, this.world.clock.ms);
    return true;
  }
}
