/**
 * The app's entry point, for the Azure Functions host and the local host alike; the production
 * bundle (scripts/bundle.cjs, package.json "main") is built from it. Every trigger file of the
 * trigger areas (functions/{api,fhir,ehr,patient,events,ops}) and every workflow file in
 * orchestrations/ registers itself with `app.*` / `df.app.*` at the bottom of its own file; this
 * file imports each of them, so all functions register at load, as the host requires. The list is
 * static so the bundler can follow it: a file added to one of those folders must be added here
 * (test/unit/deploy/entry.test.ts fails, naming the line, until it is; `npm run entry` writes the
 * list from the folders). Modules beside them (schemas, helpers, names.ts) register nothing, so
 * importing them too is harmless.
 */

import './api/absence-preview';
import './api/appointment-timeline';
import './api/appointments';
import './api/backfill-rounds';
import './api/config';
import './api/erasure';
import './api/overbooking';
import './api/patient-language';
import './api/patient-lookup';
import './api/patient-search';
import './api/reschedule';
import './api/schedule-days';
import './api/schemas';
import './api/slots';
import './api/views';
import './api/waitlist';
import './api/workflows';
import './fhir/appointment';
import './fhir/bulk-publish';
import './fhir/http';
import './fhir/metadata';
import './fhir/not-served';
import './fhir/schedule';
import './fhir/slot';
import './ehr/hl7v2';
import './ehr/hold-sweeper';
import './ehr/ical-calendar';
import './ehr/ical';
import './ehr/inbound-queue';
import './ehr/outbound-sync';
import './patient/book-link';
import './patient/book-page';
import './patient/booking-start';
import './patient/durable';
import './patient/links';
import './patient/offer-reply-trace';
import './patient/page-shell';
import './patient/sms-dev-outbox';
import './patient/sms-inbound';
import './patient/sms-status';
import './patient/twiml';
import './events/backfill';
import './events/eligibility';
import './events/follow-appointment';
import './events/no-show-follow-up';
import './events/outbox-relay';
import './events/provider-absence';
import './events/reminders';
import './ops/asyncapi';
import './ops/console';
import './ops/health';
import './ops/openapi';
import './ops/risk-training';
import '../orchestrations/backfill';
import '../orchestrations/eligibility';
import '../orchestrations/names';
import '../orchestrations/no-show-follow-up';
import '../orchestrations/provider-absence';
import '../orchestrations/reminders';
import '../orchestrations/timers';
import '../orchestrations/tracing';

// The local host awaits the same services instance the functions use (one module graph in the bundle).
export { getServices } from './app/services';
// The invocation hooks that put every function's work in a trace (registered when the module loads).
export { instrumentInvocation } from './app/telemetry-hooks';
