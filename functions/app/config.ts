import { z } from 'zod';
import { SCHEDULING_EVENTS_TOPIC } from '../adapters/servicebus/topology';

/**
 * The app settings Slotflow's own code reads. Settings read only by the Functions host or its
 * extensions (AzureWebJobsStorage__*, FUNCTIONS_*, APPLICATIONINSIGHTS_*, the Service Bus trigger
 * connection `ServiceBusConnection__fullyQualifiedNamespace`) are listed in HOST_SETTINGS.
 *
 * In Azure every connection is identity-based: no key, connection string or secret appears in
 * settings; the Twilio auth token and the link-signing key are Key Vault references.
 */
/** A Key Vault reference the platform failed to resolve reaches the app as its literal text: never use it as a secret. */
const resolvedSecret = z.string().refine((v) => !v.startsWith('@Microsoft.KeyVault('), 'is an unresolved Key Vault reference');

export const appSettingsSchema = z.object({
  /** `azure` in Azure, `local` in the embedded host and tests. */
  SLOTFLOW_ENV: z.enum(['azure', 'local']).default('local'),
  /** Cosmos DB account endpoint, e.g. https://acct.documents.azure.com:443/ */
  COSMOS_ENDPOINT: z.string().url().optional(),
  COSMOS_DATABASE: z.string().min(1).default('slotflow'),
  /** Local only: the emulator's well-known key. Absent in Azure, where the managed identity is used. */
  COSMOS_KEY: z.string().optional(),
  /** Client id of the user-assigned managed identity (DefaultAzureCredential picks it up). */
  AZURE_CLIENT_ID: z.string().optional(),
  /** Service Bus namespace host name (Azure, identity-based). Also read by the trigger binding. */
  ServiceBusConnection__fullyQualifiedNamespace: z.string().optional(),
  /** Local only: a Service Bus connection string for the embedded broker. */
  ServiceBusConnection: z.string().optional(),
  SCHEDULING_EVENTS_TOPIC: z.string().min(1).default(SCHEDULING_EVENTS_TOPIC),
  /** `twilio` sends through Twilio; `outbox` records messages locally (GET /api/dev/sms/outbox). */
  SMS_MODE: z.enum(['twilio', 'outbox']).default('outbox'),
  TWILIO_ACCOUNT_SID: z.string().optional(),
  /** Key Vault reference in Azure. Used to send and to verify X-Twilio-Signature. */
  TWILIO_AUTH_TOKEN: resolvedSecret.optional(),
  TWILIO_MESSAGING_SERVICE_SID: z.string().optional(),
  /** Public base URL the app is reached at (behind proxies), used for webhook signatures and links. */
  PUBLIC_BASE_URL: z.string().url().optional(),
  /** Key Vault reference in Azure: HMAC key for self-scheduling links. */
  LINK_SIGNING_KEY: resolvedSecret.pipe(z.string().min(32)).optional(),
  /** Claim type in x-ms-client-principal that scopes a principal to clinics. */
  CLINIC_CLAIM_TYPE: z.string().min(1).default('clinic'),
  /** `fhir` sends CoverageEligibilityRequest to ELIGIBILITY_FHIR_ENDPOINT; `simulated` uses the local payer. */
  ELIGIBILITY_MODE: z.enum(['fhir', 'simulated']).default('simulated'),
  ELIGIBILITY_FHIR_ENDPOINT: z.string().url().optional(),
  /** Put patient names into the iCalendar feed (off by default: a calendar leaves the EHR's control). */
  ICAL_PATIENT_NAMES: z.enum(['true', 'false']).default('false'),
  /** Optional EHR FHIR endpoint that receives outbound appointment changes. */
  EHR_FHIR_ENDPOINT: z.string().url().optional(),
  /**
   * `azure-monitor`: export traces and metrics to Application Insights through the Azure Monitor
   * OpenTelemetry distro (identity-based, loaded on the first invocation; functions/app/telemetry-hooks.ts).
   */
  SLOTFLOW_TELEMETRY: z.enum(['azure-monitor', 'off']).default('off'),
});

export type AppSettings = z.infer<typeof appSettingsSchema>;

/** Settings the Functions host or its extensions read; the app sets them in bicep but never reads them. */
export const HOST_SETTINGS = [
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'ServiceBusConnection__credential',
  'ServiceBusConnection__clientId',
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
] as const;

/** Settings that must be present when SLOTFLOW_ENV=azure. */
export const AZURE_REQUIRED_SETTINGS = [
  'SLOTFLOW_ENV',
  'COSMOS_ENDPOINT',
  'COSMOS_DATABASE',
  'AZURE_CLIENT_ID',
  'ServiceBusConnection__fullyQualifiedNamespace',
  'SCHEDULING_EVENTS_TOPIC',
  'SMS_MODE',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_MESSAGING_SERVICE_SID',
  'PUBLIC_BASE_URL',
  'LINK_SIGNING_KEY',
  'CLINIC_CLAIM_TYPE',
  'ELIGIBILITY_MODE',
] as const;

/** Settings that must never be set in Azure (they carry keys). */
export const LOCAL_ONLY_SETTINGS = ['COSMOS_KEY', 'ServiceBusConnection'] as const;

export class ConfigError extends Error {
  constructor(readonly fields: string[]) {
    super(`Invalid or missing app settings: ${fields.join(', ')}`);
  }
}

/** Parses app settings from an environment; names the offending settings, never their values. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): AppSettings {
  const parsed = appSettingsSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError([...new Set(parsed.error.issues.map((i) => String(i.path[0])))]);
  const settings = parsed.data;
  if (settings.SLOTFLOW_ENV === 'azure') {
    const missing = AZURE_REQUIRED_SETTINGS.filter((k) => settings[k] === undefined || settings[k] === '');
    const forbidden = LOCAL_ONLY_SETTINGS.filter((k) => settings[k] !== undefined);
    if (missing.length || forbidden.length) throw new ConfigError([...missing, ...forbidden]);
  }
  return settings;
}

let cached: AppSettings | undefined;
/** Settings of this process, parsed once. */
export function settings(): AppSettings {
  cached ??= loadSettings();
  return cached;
}
/** For tests and the local host, which set the environment before the app reads it. */
export function resetSettingsCache(): void {
  cached = undefined;
}

/** Fixed key for local links only; never accepted when SLOTFLOW_ENV=azure. */
export const LOCAL_DEV_LINK_KEY = 'slotflow-local-dev-link-signing-key-not-a-secret';

/** The key self-scheduling links are signed with. */
export function linkSigningKey(settings: AppSettings): string {
  if (settings.LINK_SIGNING_KEY) return settings.LINK_SIGNING_KEY;
  if (settings.SLOTFLOW_ENV === 'local') return LOCAL_DEV_LINK_KEY;
  throw new Error('LINK_SIGNING_KEY is not set');
}

/** The webhook signing token the local host uses when TWILIO_AUTH_TOKEN is not set (not a secret). */
export const LOCAL_DEV_TWILIO_AUTH_TOKEN = 'local-dev-twilio-auth-token';

/**
 * The Twilio auth token. App settings are parsed once per process, but the token is read from the
 * environment first so a test or the local host can set it late (env wins over local.settings.json,
 * which the host loads into the environment anyway).
 */
export function twilioAuthToken(settings: AppSettings): string | undefined {
  const token = process.env.TWILIO_AUTH_TOKEN || settings.TWILIO_AUTH_TOKEN;
  // Locally, with no token configured, a fixed development token lets `npm run demo` and manual
  // curl calls sign webhooks. Never in Azure, where an unset token rejects every webhook.
  if (!token && settings.SLOTFLOW_ENV === 'local') return LOCAL_DEV_TWILIO_AUTH_TOKEN;
  return token;
}

/** PUBLIC_BASE_URL + path, or the local host's URL when none is configured. */
export function publicUrl(settings: AppSettings, pathAndQuery: string): string {
  const base = (settings.PUBLIC_BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? '7071'}`).replace(/\/+$/, '');
  return `${base}${pathAndQuery}`;
}
