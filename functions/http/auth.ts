import type { HttpRequest } from '@azure/functions';
import { AccessDenied, type Actor, type BookingAccess, type Clinic, type ConfigRepository } from '../../domain';
import { HttpErrorCode, HttpProblem } from './problem';

/**
 * The caller, from App Service Authentication's `x-ms-client-principal` (base64 JSON with `auth_typ`,
 * `claims: [{typ, val}]`, `name_typ`, `role_typ`). In Azure the platform strips any client-sent copy of
 * the header and sets it after authenticating; the local host accepts it as sent.
 */

export const roles = ['admin', 'scheduler', 'ehr'] as const;
export type Role = (typeof roles)[number];

export interface Principal {
  /** Stable id for audit: object id / subject claim, never a name or e-mail. */
  principalId: string;
  roles: ReadonlySet<Role>;
  /** Clinics this principal is limited to; undefined = organisation-wide. */
  clinicIds?: ReadonlySet<string>;
}

export const PRINCIPAL_HEADER = 'x-ms-client-principal';
/** Headers beyond this are not a principal App Service would send. */
const MAX_PRINCIPAL_HEADER_BYTES = 16 * 1024;
const ROLE_CLAIM_TYPES = ['roles', 'role', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const ID_CLAIM_TYPES = [
  'http://schemas.microsoft.com/identity/claims/objectidentifier',
  'oid',
  'sub',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
];
const SAFE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

interface Claim {
  typ: string;
  val: string;
}

function parseClaims(header: string): { claims: Claim[]; roleTyp?: string } | undefined {
  if (header.length > MAX_PRINCIPAL_HEADER_BYTES) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'object' || decoded === null || !Array.isArray((decoded as { claims?: unknown }).claims)) return undefined;
  const raw = decoded as { claims: unknown[]; role_typ?: unknown };
  const claims = raw.claims.filter(
    (c): c is Claim => typeof c === 'object' && c !== null && typeof (c as Claim).typ === 'string' && typeof (c as Claim).val === 'string',
  );
  return { claims, ...(typeof raw.role_typ === 'string' ? { roleTyp: raw.role_typ } : {}) };
}

/** Parses the principal header; undefined when absent or unreadable (both are 401). */
export function parsePrincipal(request: Pick<HttpRequest, 'headers'>, clinicClaimType: string): Principal | undefined {
  const header = request.headers.get(PRINCIPAL_HEADER);
  if (!header) return undefined;
  const parsed = parseClaims(header.trim());
  if (!parsed) return undefined;
  const roleTypes = new Set([...ROLE_CLAIM_TYPES, ...(parsed.roleTyp ? [parsed.roleTyp] : [])]);
  const principalRoles = new Set<Role>();
  const clinicIds = new Set<string>();
  let principalId: string | undefined;
  for (const claim of parsed.claims) {
    if (roleTypes.has(claim.typ) && (roles as readonly string[]).includes(claim.val)) principalRoles.add(claim.val as Role);
    if (claim.typ === clinicClaimType) clinicIds.add(claim.val);
    if (!principalId && ID_CLAIM_TYPES.includes(claim.typ) && SAFE_ID.test(claim.val)) principalId = claim.val;
  }
  const headerId = request.headers.get('x-ms-client-principal-id');
  principalId ??= headerId && SAFE_ID.test(headerId) ? headerId : 'unidentified';
  return { principalId, roles: principalRoles, ...(clinicIds.size > 0 ? { clinicIds } : {}) };
}

/** The principal, or 401 / 403 (none of `allowed` roles). */
export function requirePrincipal(request: Pick<HttpRequest, 'headers'>, allowed: readonly Role[], clinicClaimType: string): Principal {
  const principal = parsePrincipal(request, clinicClaimType);
  if (!principal)
    throw new HttpProblem(HttpErrorCode.UNAUTHENTICATED, 'Sign-in required: no valid x-ms-client-principal.', { headers: { 'www-authenticate': 'Bearer' } });
  if (!allowed.some((r) => principal.roles.has(r))) {
    throw new HttpProblem(HttpErrorCode.FORBIDDEN, `This operation needs one of the roles: ${allowed.join(', ')}.`);
  }
  return principal;
}

/** True if the principal may act on the clinic. */
export function canAccessClinic(principal: Principal, clinicId: string): boolean {
  return !principal.clinicIds || principal.clinicIds.has(clinicId);
}

const clinicForbidden = (clinicId: string) =>
  new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This principal is limited to other clinics.', { details: { clinicId } });

/** Throws 403 AUTH.CLINIC_FORBIDDEN unless the principal may act on the clinic. */
export function requireClinicAccess(principal: Principal, clinicId: string): void {
  if (!canAccessClinic(principal, clinicId)) throw clinicForbidden(clinicId);
}

/**
 * Patient visibility for clinic-scoped principals: through the patient's own clinic list when it has one,
 * else through the clinic of the appointment or waitlist entry at hand (`viaClinicId`).
 */
export function canAccessPatient(principal: Principal, patient: { clinicIds: readonly string[] }, viaClinicId?: string): boolean {
  if (!principal.clinicIds) return true;
  if (patient.clinicIds.length > 0) return patient.clinicIds.some((c) => principal.clinicIds!.has(c));
  return viaClinicId !== undefined && principal.clinicIds.has(viaClinicId);
}

/** The domain actor for a staff principal. */
export function staffActor(principal: Principal): Actor {
  return {
    kind: principal.roles.has('ehr') && !principal.roles.has('scheduler') && !principal.roles.has('admin') ? 'ehr' : 'staff',
    principalId: principal.principalId,
  };
}

/** Builds a principal header value (dev console, tests, the local demo). */
export function encodePrincipal(p: { roles: readonly Role[]; clinicIds?: readonly string[]; principalId?: string; clinicClaimType?: string }): string {
  const claims: Claim[] = [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: p.principalId ?? 'dev-user' },
    ...p.roles.map((r) => ({ typ: 'roles', val: r })),
    ...(p.clinicIds ?? []).map((c) => ({ typ: p.clinicClaimType ?? 'clinic', val: c })),
  ];
  return Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims }), 'utf8').toString('base64');
}

/** Clinics the principal may see, by id. */
export async function visibleClinics(deps: { config: Pick<ConfigRepository, 'listClinics'> }, principal: Principal): Promise<Clinic[]> {
  return (await deps.config.listClinics()).filter((c) => canAccessClinic(principal, c.clinicId)).sort((a, b) => a.clinicId.localeCompare(b.clinicId));
}

/** The principal's clinic scope as the plain predicates domain use cases check on what they load. */
export function accessOf(principal: Principal): BookingAccess {
  return { clinic: (clinicId) => canAccessClinic(principal, clinicId), patient: (patient, viaClinicId) => canAccessPatient(principal, patient, viaClinicId) };
}

/** A use case's AccessDenied as the 403 AUTH.CLINIC_FORBIDDEN of requireClinicAccess / patient scoping; any other error unchanged. */
export function forbiddenProblem(error: unknown): unknown {
  if (!(error instanceof AccessDenied)) return error;
  return error.denied === 'clinic'
    ? clinicForbidden(error.clinicId)
    : new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This patient record belongs to other clinics.');
}
