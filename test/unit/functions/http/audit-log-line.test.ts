import { auditLogLine } from '../../../../functions/http/preamble';

// The `audit {json}` line is what the after-hours and bulk-read alerts (bicep/modules/alerts.bicep)
// parse: `substring(Message, 6)` must be JSON with action, principalId and patientId.
const entry = {
  principalId: 'staff-1',
  action: 'read' as const,
  resourceType: 'Appointment' as const,
  resourceId: 'apt-1',
  patientId: 'pat-1',
  correlationId: 'c-1',
  at: '2026-03-03T02:00:00.000Z',
  outcome: 'success' as const,
};

test('an audit line is "audit " and JSON of ids and codes the alert queries read', () => {
  const line = auditLogLine(entry);
  expect(line.startsWith('audit {')).toBe(true);
  expect(JSON.parse(line.slice(6))).toEqual({
    action: 'read',
    resourceType: 'Appointment',
    outcome: 'success',
    principalId: 'staff-1',
    resourceId: 'apt-1',
    patientId: 'pat-1',
    correlationId: 'c-1',
  });
});

test('a patient resource counts as that patient even without patientId; entries about no patient have none', () => {
  const { patientId: _omit, ...rest } = entry;
  void _omit;
  expect(JSON.parse(auditLogLine({ ...rest, resourceType: 'Patient', resourceId: 'pat-9' }).slice(6)).patientId).toBe('pat-9');
  expect(JSON.parse(auditLogLine({ ...rest, resourceType: 'OverbookingSuggestion', resourceId: 's-1' }).slice(6))).not.toHaveProperty('patientId');
});
