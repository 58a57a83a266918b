/** functions/lib: problem+json mapping and principal parsing, without routes. */
import { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { DomainError, ErrorCode } from '../../../../domain';
import { canAccessPatient, encodePrincipal, parsePrincipal, requirePrincipal, staffActor } from '../../../../functions/http/auth';
import { decodeContinuation, encodeContinuation } from '../../../../functions/http/handlers';
import { DOMAIN_STATUS, fieldIssues, HttpProblem, statusOf, toProblemResponse } from '../../../../functions/http/problem';

const req = (headers: Record<string, string>) => new HttpRequest({ method: 'GET', url: 'http://localhost/api/x', headers });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

describe('problem.ts', () => {
  test('every domain code maps to a 4xx', () => {
    for (const code of Object.values(ErrorCode)) {
      expect(statusOf(code)).toBeGreaterThanOrEqual(400);
      expect(statusOf(code)).toBeLessThan(500);
    }
    expect(Object.keys(DOMAIN_STATUS).sort()).toEqual(Object.values(ErrorCode).sort());
    expect([
      statusOf(ErrorCode.SLOT_TAKEN),
      statusOf(ErrorCode.APPOINTMENT_NOT_FOUND),
      statusOf(ErrorCode.IDEMPOTENCY_KEY_REUSED),
      statusOf(ErrorCode.INVALID_INPUT),
    ]).toEqual([409, 404, 422, 400]);
  });

  test('a DomainError becomes an RFC 9457 body with its code and details', async () => {
    const r = toProblemResponse(new DomainError(ErrorCode.SLOT_TAKEN, 'The slot is already taken', { slotId: 'p1.20260303T1400' }), {
      instance: 'urn:x',
      correlationId: 'c-1',
    });
    expect(r.status).toBe(409);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(await r.json()).toEqual({
      type: 'urn:slotflow:problem:appointment.slot_taken',
      title: 'Conflict',
      status: 409,
      detail: 'The slot is already taken',
      code: 'APPOINTMENT.SLOT_TAKEN',
      instance: 'urn:x',
      details: { slotId: 'p1.20260303T1400' },
      correlationId: 'c-1',
    });
  });

  test('unknown errors are a bare 500: the message never leaves the process', async () => {
    const r = toProblemResponse(new Error('patient Ada Lovelace +14155550101 broke it'));
    expect(r.status).toBe(500);
    const text = JSON.stringify(await r.json());
    expect(text).not.toContain('Ada');
    expect(text).toContain('"code":"INTERNAL"');
  });

  test('zod issues name schema fields, never values or unknown keys', () => {
    const schema = z.object({ phone: z.string().regex(/^\+\d+$/, 'must be E.164'), nested: z.object({ n: z.number() }).strict() }).strict();
    const parsed = schema.safeParse({ phone: 'Ada Lovelace', nested: { n: 'x', 'Grace Hopper': 1 }, 'Alan Turing': true });
    expect(parsed.success).toBe(false);
    const issues = fieldIssues(parsed.error!);
    expect(issues).toEqual(
      expect.arrayContaining([
        { field: 'body.phone', message: 'must be E.164' },
        { field: 'body.nested.n', message: expect.any(String) },
        { field: 'body.nested', message: '1 unknown field(s)' },
        { field: 'body', message: '1 unknown field(s)' },
      ]),
    );
    expect(JSON.stringify(issues)).not.toMatch(/Ada|Grace|Alan/);
  });
});

describe('auth.ts', () => {
  test('roles and clinic claims from the principal header', () => {
    const p = parsePrincipal(
      req({ 'x-ms-client-principal': encodePrincipal({ roles: ['scheduler'], clinicIds: ['c1', 'c2'], principalId: 'oid-1' }) }),
      'clinic',
    );
    expect(p).toEqual({ principalId: 'oid-1', roles: new Set(['scheduler']), clinicIds: new Set(['c1', 'c2']) });
    expect(staffActor(p!)).toEqual({ kind: 'staff', principalId: 'oid-1' });
  });

  test('role_typ from the principal, the id header as fallback, unknown roles ignored, unsafe ids replaced', () => {
    const header = b64({
      auth_typ: 'aad',
      role_typ: 'http://example/role',
      claims: [
        { typ: 'http://example/role', val: 'admin' },
        { typ: 'roles', val: 'superuser' },
      ],
    });
    const p = parsePrincipal(req({ 'x-ms-client-principal': header, 'x-ms-client-principal-id': 'id-9' }), 'clinic');
    expect(p).toEqual({ principalId: 'id-9', roles: new Set(['admin']) });
    const unsafe = parsePrincipal(req({ 'x-ms-client-principal': b64({ claims: [{ typ: 'oid', val: 'Ada Lovelace <ada@example.org>' }] }) }), 'clinic');
    expect(unsafe?.principalId).toBe('unidentified');
  });

  test('401 without or with an unreadable principal, 403 without a matching role', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as HttpProblem).code;
      }
      return 'no error';
    };
    expect(code(() => requirePrincipal(req({}), ['scheduler'], 'clinic'))).toBe('AUTH.UNAUTHENTICATED');
    expect(code(() => requirePrincipal(req({ 'x-ms-client-principal': 'x'.repeat(20_000) }), ['scheduler'], 'clinic'))).toBe('AUTH.UNAUTHENTICATED');
    expect(code(() => requirePrincipal(req({ 'x-ms-client-principal': b64({ claims: [] }) }), ['scheduler'], 'clinic'))).toBe('AUTH.FORBIDDEN');
    expect(code(() => requirePrincipal(req({ 'x-ms-client-principal': encodePrincipal({ roles: ['ehr'] }) }), ['scheduler', 'admin'], 'clinic'))).toBe(
      'AUTH.FORBIDDEN',
    );
  });

  test('patient visibility for clinic-scoped principals', () => {
    const scoped = { principalId: 's', roles: new Set(['scheduler'] as const), clinicIds: new Set(['c1']) };
    const orgWide = { principalId: 'o', roles: new Set(['scheduler'] as const) };
    expect(canAccessPatient(scoped, { clinicIds: ['c1', 'c9'] })).toBe(true);
    expect(canAccessPatient(scoped, { clinicIds: ['c2'] }, 'c1')).toBe(false);
    expect(canAccessPatient(scoped, { clinicIds: [] }, 'c1')).toBe(true);
    expect(canAccessPatient(scoped, { clinicIds: [] }, 'c2')).toBe(false);
    expect(canAccessPatient(scoped, { clinicIds: [] })).toBe(false);
    expect(canAccessPatient(orgWide, { clinicIds: ['c2'] })).toBe(true);
  });
});

describe('continuation tokens', () => {
  test('round-trip for the same query only', () => {
    const token = encodeContinuation('repo-token-7', { clinicId: 'c1', from: 'a' })!;
    expect(decodeContinuation(token, { from: 'a', clinicId: 'c1' })).toBe('repo-token-7');
    expect(() => decodeContinuation(token, { clinicId: 'c2', from: 'a' })).toThrow(HttpProblem);
    expect(() => decodeContinuation('%%%', { clinicId: 'c1' })).toThrow(HttpProblem);
    expect(encodeContinuation(undefined, {})).toBeUndefined();
  });
});
