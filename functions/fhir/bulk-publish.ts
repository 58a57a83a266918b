import { app } from '@azure/functions';
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { locationResource, scheduleResource, slotResource, type FhirResource } from '../../domain/ehr';
import { baseUrlOf, fhirHandler, FhirProblem, invalidParam, searchParams, single, type FhirResult } from './http';
import { bookableWindow, startsInWindow, type BookableWindow } from '../../domain';
import { providerSlotStates, typesOf, type SlotState } from '../../domain/slot-states';
import { visibleClinics } from '../http/auth';
import type { ApiContext } from '../http/handlers';
import { HttpErrorCode } from '../http/problem';

/**
 * SMART Scheduling Links (https://github.com/smart-on-fhir/smart-scheduling-links): GET /fhir/$bulk-publish
 * returns a manifest pointing at NDJSON files of Location, Schedule and Slot; each free Slot carries a
 * booking-deep-link to /book/slot/{slotId}, where a patient asks for a signed self-scheduling link by SMS.
 * `_since` limits the Slot file to slots whose free/busy state changed since then (plus slots that entered the
 * published window since); Location and Schedule files are small and always complete, which the spec allows.
 * Every answer has a content ETag; If-None-Match gives 304.
 */

export const BULK_PUBLISH_DAYS = 28;
const FILES = ['Location', 'Schedule', 'Slot'] as const;
type BulkFile = (typeof FILES)[number];
const NDJSON = 'application/fhir+ndjson';

const etagOf = (content: string) => `"${createHash('sha256').update(content).digest('base64url').slice(0, 32)}"`;
const ndjsonOf = (resources: FhirResource[]) => resources.map((r) => `${JSON.stringify(r)}\n`).join('');

function sinceOf(ctx: ApiContext): DateTime | undefined {
  const params = searchParams(ctx.request, ['_since']);
  const raw = single(params, '_since');
  if (raw === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) throw invalidParam('_since', 'must be an instant with an offset');
  const dt = DateTime.fromISO(raw, { setZone: true });
  if (!dt.isValid) throw invalidParam('_since', 'must be an instant with an offset');
  return dt.toUTC();
}

/** The files' content for this principal (clinic scope), as of now; slots only when the Slot file is wanted. */
async function bulkContent(ctx: ApiContext, since: DateTime | undefined, files: readonly BulkFile[] = FILES): Promise<Record<BulkFile, string>> {
  const base = baseUrlOf(ctx);
  const now = ctx.services.clock.now().toUTC();
  const to = now.plus({ days: BULK_PUBLISH_DAYS });
  // Generated over a window rounded to the hour (cached), then cut to [now, now + BULK_PUBLISH_DAYS).
  const windowFrom = now.startOf('hour');
  const keep = (slot: { start: string }) => Date.parse(slot.start) >= now.toMillis() && Date.parse(slot.start) < to.toMillis();
  const locations: FhirResource[] = [];
  const schedules: FhirResource[] = [];
  const slots: FhirResource[] = [];
  const bookableThen = new Map<string, BookableWindow>();
  for (const clinic of await visibleClinics(ctx.services, ctx.principal)) {
    locations.push(locationResource(clinic));
    if (since) bookableThen.set(clinic.clinicId, bookableWindow(since, clinic.bookingPolicy, 'link'));
    const types = await typesOf(ctx.services, clinic.clinicId);
    const providers = (await ctx.services.config.listProviders(clinic.clinicId)).sort((a, b) => a.providerId.localeCompare(b.providerId));
    for (const provider of providers) {
      schedules.push(scheduleResource(provider, types));
      if (!files.includes('Slot')) continue;
      for (const s of await providerSlotStates(ctx.services, {
        clinic,
        provider,
        types,
        from: windowFrom,
        to: windowFrom.plus({ days: BULK_PUBLISH_DAYS, hours: 1 }),
        keep,
        // The deep link books through a self-scheduling link: that channel's rules (minimum notice) decide what is free.
        bookableBy: { now, channel: 'link' },
      })) {
        if (since && !changedSince(s, since, bookableThen.get(clinic.clinicId)!)) continue;
        slots.push(
          // SMART Scheduling Links knows free and busy only: a slot that cannot be booked now is busy.
          slotResource(s.slot, s.status === 'free' ? 'free' : 'busy', {
            types,
            bookingUrl: `${base}/book/slot/${encodeURIComponent(s.slot.slotId)}`,
            ...(s.lastUpdated ? { lastUpdated: s.lastUpdated } : {}),
          }),
        );
      }
    }
  }
  slots.sort((a, b) => Date.parse(String(a.start)) - Date.parse(String(b.start)) || String(a.id).localeCompare(String(b.id)));
  return { Location: ndjsonOf(locations), Schedule: ndjsonOf(schedules), Slot: ndjsonOf(slots) };
}

/**
 * Whether a published slot changed since `since`: an appointment touching it changed, it entered the published
 * window (the far end moves with time), or time made it free or unbookable (minimum notice, horizon).
 */
function changedSince(s: SlotState, since: DateTime, bookableAtSince: BookableWindow): boolean {
  const start = Date.parse(s.slot.start);
  if (s.lastUpdated !== undefined && Date.parse(s.lastUpdated) >= since.toMillis()) return true;
  if (start >= since.plus({ days: BULK_PUBLISH_DAYS }).toMillis()) return true;
  return (s.status === 'free') !== (s.status !== 'busy' && startsInWindow(s.slot.start, bookableAtSince));
}

const notModified = (ctx: ApiContext, etag: string) =>
  (ctx.request.headers.get('if-none-match') ?? '')
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .includes(etag);

/** GET /fhir/$bulk-publish: the manifest. */
export async function bulkPublishManifest(ctx: ApiContext): Promise<FhirResult> {
  const since = sinceOf(ctx);
  const content = await bulkContent(ctx, since);
  const etag = etagOf(FILES.map((f) => content[f]).join('\u0000'));
  const headers = { etag, 'cache-control': 'no-cache' };
  if (notModified(ctx, etag)) return { status: 304, headers };
  const base = baseUrlOf(ctx);
  const query = since ? `?_since=${encodeURIComponent(since.toISO()!)}` : '';
  const manifest = {
    transactionTime: ctx.services.clock.now().toUTC().toISO()!,
    request: `${base}/fhir/$bulk-publish${query}`,
    output: FILES.map((type) => ({ type, url: `${base}/fhir/$bulk-publish/${type}.ndjson${query}` })),
    error: [] as unknown[],
  };
  return { status: 200, body: JSON.stringify(manifest), headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } };
}

/** GET /fhir/$bulk-publish/{file}: Location.ndjson, Schedule.ndjson or Slot.ndjson. */
export async function bulkPublishFile(ctx: ApiContext): Promise<FhirResult> {
  const file = /^(Location|Schedule|Slot)\.ndjson$/.exec(ctx.request.params.file ?? '')?.[1] as BulkFile | undefined;
  if (!file) throw new FhirProblem(404, HttpErrorCode.NOT_FOUND, 'No such bulk file; see the manifest');
  const since = sinceOf(ctx);
  const content = (await bulkContent(ctx, since, [file]))[file];
  const etag = etagOf(content);
  const headers = { etag, 'cache-control': 'no-cache' };
  if (notModified(ctx, etag)) return { status: 304, headers };
  return { status: 200, body: content, headers: { ...headers, 'content-type': `${NDJSON}; charset=utf-8` } };
}

app.http('fhirBulkPublish', { route: 'fhir/$bulk-publish', methods: ['GET'], authLevel: 'anonymous', handler: fhirHandler(['ehr'], bulkPublishManifest) });
app.http('fhirBulkPublishFile', {
  route: 'fhir/$bulk-publish/{file}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: fhirHandler(['ehr'], bulkPublishFile),
});
