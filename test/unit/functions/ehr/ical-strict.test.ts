// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * The iCalendar feed read the way a strict consumer reads it: RFC 5545 3.1 content lines, each ending in CRLF,
 * the last one too (after END:VCALENDAR); at most 75 octets; parsed by ical.js (Mozilla's parser, which throws on
 * malformed content lines) into one VCALENDAR whose VEVENTs carry the required properties.
 */
import ICAL from 'ical.js';
import { invoke, P1_TUE_0900, P1_TUE_0930, principal, seed } from '../../../support/api-harness';

import '../../../../functions/api/appointments';
import '../../../../functions/ehr/ical-calendar';

beforeEach(async () => {
  await seed();
});

test('every content line ends with CRLF, END:VCALENDAR included, and ical.js parses the feed', async () => {
  for (const slotId of [P1_TUE_0900, P1_TUE_0930]) {
    const r = await invoke('POST', '/api/appointments', {
      principal: principal(['scheduler']),
      body: { slotId, patientId: 'pat1', appointmentType: 'checkup' },
    });
    expect(r.status).toBe(201);
  }
  const feed = await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['ehr']) });
  expect(feed.status).toBe(200);
  const text = feed.text;
  expect(text.endsWith('END:VCALENDAR\r\n')).toBe(true);
  // No bare CR or LF anywhere: every line break is CRLF.
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  for (const line of text.slice(0, -2).split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);

  const calendar = new ICAL.Component(ICAL.parse(text));
  expect(calendar.name).toBe('vcalendar');
  expect(calendar.getFirstPropertyValue('version')).toBe('2.0');
  expect(calendar.getFirstPropertyValue('prodid')).toBeTruthy();
  const events = calendar.getAllSubcomponents('vevent');
  expect(events).toHaveLength(2);
  for (const vevent of events) {
    for (const required of ['uid', 'dtstamp', 'dtstart', 'dtend']) expect([required, vevent.hasProperty(required)]).toEqual([required, true]);
    const event = new ICAL.Event(vevent);
    expect(event.startDate.zone?.tzid).toBe('UTC');
  }
  expect(new ICAL.Event(events[0]!).startDate.toJSDate().toISOString()).toBe('2026-03-03T14:00:00.000Z');
});

test('an empty feed ends with CRLF too', async () => {
  const feed = await invoke('GET', '/api/providers/p2/calendar.ics', { principal: principal(['ehr']) });
  expect(feed.text.endsWith('END:VCALENDAR\r\n')).toBe(true);
  expect(new ICAL.Component(ICAL.parse(feed.text)).getAllSubcomponents('vevent')).toHaveLength(0);
});
