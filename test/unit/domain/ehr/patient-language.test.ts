/**
 * SIU PID-15 (primary language) becomes the patient's preferredLanguage (issue 22): ISO 639 codes
 * canonicalize, an unreadable field leaves the record alone, and the texts then follow it.
 */
import { processHl7Message, type Hl7Caller, type SiuIntakeDeps } from '../../../../domain/ehr';
import { InMemoryIdempotency } from '../../../../domain/memory';
import { resolvePatientLocale } from '../../../../domain/sms';
import { demoDeps, type TestDeps } from '../../../fixtures/domain/builders';

const EHR: Hl7Caller = { principalId: 'epic-interface', canAccessClinic: () => true };
let deps: TestDeps & SiuIntakeDeps;
beforeEach(async () => {
  deps = { ...(await demoDeps()), idempotency: new InMemoryIdempotency() };
});

const s12 = (controlId: string, pid15: string, filler = 'FL-1', start = '20260303090000') =>
  [
    `MSH|^~\\&|EPIC|HOSP|||20260302081500||SIU^S12|${controlId}|P|2.5.1`,
    `SCH||${filler}`,
    `PID|||pat-1||Example^Pat||||||||||${pid15}`,
    `AIS|1||checkup|${start}`,
    'AIP|1||prov-1',
  ].join('\r');

it.each([
  ['spa^Spanish^ISO6392', 'es'],
  ['es-MX^Spanish (Mexico)^urn:ietf:bcp:47', 'es-MX'],
  ['VIE^Vietnamese^HL70296', 'vi'],
  ['fre^French^ISO6392', 'fr'],
])('PID-15 %j -> preferredLanguage %s', async (pid15, tag) => {
  const outcome = await processHl7Message(deps, s12('CTRL-1', pid15), EHR);
  expect(outcome.ackCode).toBe('AA');
  expect((await deps.patients.get('pat-1'))?.preferredLanguage).toBe(tag);
});

it('an empty or unreadable PID-15 leaves the language as it was; French falls back to the clinic default when texting', async () => {
  await processHl7Message(deps, s12('CTRL-1', 'spa^Spanish^ISO6392'), EHR);
  await processHl7Message(deps, s12('CTRL-2', '', 'FL-2', '20260303100000'), EHR);
  await processHl7Message(deps, s12('CTRL-3', 'Spanish language^^', 'FL-3', '20260303110000'), EHR);
  expect((await deps.patients.get('pat-1'))?.preferredLanguage).toBe('es');
  expect(resolvePatientLocale('fr', 'es')).toEqual({ language: 'es', locale: 'es' });
});
