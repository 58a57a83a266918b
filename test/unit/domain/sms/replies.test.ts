import { classifyOffer, decideReply, parseReply, type OfferState, type ReplyAction, type ReplyIntent, type ReplyState } from '../../../../domain/sms';
import type { WaitlistOffer } from '../../../../domain';

describe('parseReply', () => {
  it.each([
    ['YES', 'yes'],
    ['yes', 'yes'],
    [' Y ', 'yes'],
    ['Yes!', 'yes'],
    ['ok', 'yes'],
    ['NO', 'no'],
    ['n', 'no'],
    ['C', 'confirm'],
    ['c', 'confirm'],
    ['confirm', 'confirm'],
    ['X', 'cancel'],
    ['x.', 'cancel'],
    ['BOOK', 'book'],
    ['book', 'book'],
    ['STOP', 'opt-out'],
    ['stopall', 'opt-out'],
    ['UNSUBSCRIBE', 'opt-out'],
    ['CANCEL', 'opt-out'],
    ['cancel', 'opt-out'],
    ['END', 'opt-out'],
    ['QUIT', 'opt-out'],
    ['START', 'opt-in'],
    ['unstop', 'opt-in'],
    ['HELP', 'help'],
    ['info', 'help'],
    ['maybe later', 'unknown'],
    ['', 'unknown'],
    ['I have chest pain, can I come today?', 'unknown'],
    // Spanish, without regard to accents or case.
    ['SÍ', 'yes'],
    ['si', 'yes'],
    ['Sí!', 'yes'],
    ['¡Sí!', 'yes'],
    ['No.', 'no'],
    ['confirmar', 'confirm'],
    ['CITA', 'book'],
    ['ayuda', 'help'],
    ['PARAR', 'opt-out'],
    ['alto', 'opt-out'],
    ['Cancelar', 'opt-out'],
    // Vietnamese, with or without diacritics (Đ has no decomposition).
    ['CÓ', 'yes'],
    ['co', 'yes'],
    ['Không', 'no'],
    ['khong', 'no'],
    ['Xác nhận', 'confirm'],
    ['ĐẶT', 'book'],
    ['dat lich', 'book'],
    ['trợ giúp', 'help'],
    // Move earlier (issue 15) and reschedule (issue 22), in each language.
    ['EARLIER', 'earlier'],
    ['sooner', 'earlier'],
    ['Antes', 'earlier'],
    ['SỚM HƠN', 'earlier'],
    ['som hon', 'earlier'],
    ['R', 'reschedule'],
    ['r.', 'reschedule'],
    ['Reschedule', 'reschedule'],
    ['CAMBIAR', 'reschedule'],
    ['reprogramar', 'reschedule'],
    ['ĐỔI', 'reschedule'],
    ['Đổi lịch', 'reschedule'],
    ['dời lịch', 'reschedule'],
  ])('%j -> %s', (body, kind) => {
    expect(parseReply(body).kind).toBe(kind);
  });

  it('tells which language a word is only of', () => {
    expect(parseReply('AYUDA')).toEqual({ kind: 'help', language: 'es' });
    expect(parseReply('PARAR')).toEqual({ kind: 'opt-out', language: 'es' });
    expect(parseReply('KHONG')).toEqual({ kind: 'no', language: 'vi' });
    expect(parseReply('HELP')).toEqual({ kind: 'help' });
    expect(parseReply('NO')).toEqual({ kind: 'no' });
  });

  it('reads numbers as picks', () => {
    expect(parseReply('1')).toEqual({ kind: 'pick', number: 1 });
    expect(parseReply(' 3 ')).toEqual({ kind: 'pick', number: 3 });
    expect(parseReply('#2')).toEqual({ kind: 'pick', number: 2 });
  });
});

describe('classifyOffer', () => {
  const offer = (status: WaitlistOffer['status'], expiresAt = '2026-03-02T15:00:00Z'): WaitlistOffer => ({
    offerId: 'off-1',
    clinicId: 'c1',
    slotId: 'p1.20260303T1430',
    waitlistEntryId: 'wl-1',
    patientId: 'pat1',
    workflowInstanceId: 'backfill-x',
    round: 1,
    status,
    sentAt: '2026-03-02T14:00:00Z',
    expiresAt,
    version: 1,
  });
  const now = '2026-03-02T14:30:00Z';
  it('open until expiresAt, then expired', () => {
    expect(classifyOffer(offer('sent'), now).kind).toBe('open');
    expect(classifyOffer(offer('sent', '2026-03-02T14:30:00Z'), now).kind).toBe('expired');
  });
  it('maps closed offers', () => {
    expect(classifyOffer(offer('expired'), now).kind).toBe('expired');
    expect(classifyOffer(offer('unavailable'), now).kind).toBe('taken');
    expect(classifyOffer(offer('accepted'), now).kind).toBe('none');
    expect(classifyOffer(offer('declined'), now).kind).toBe('none');
    expect(classifyOffer(undefined, now).kind).toBe('none');
  });
});

describe('decideReply: every keyword in every state', () => {
  const open: OfferState = { kind: 'open', offerId: 'off-1', sentAt: '2026-03-02T14:00:00Z' };
  const states: Record<string, ReplyState> = {
    'no offer, no appointment': { optedOut: false, offer: { kind: 'none' }, hasUpcomingAppointment: false },
    'open offer': { optedOut: false, offer: open, hasUpcomingAppointment: false },
    'expired offer': { optedOut: false, offer: { kind: 'expired', offerId: 'off-1' }, hasUpcomingAppointment: false },
    'offer taken': { optedOut: false, offer: { kind: 'taken', offerId: 'off-1' }, hasUpcomingAppointment: false },
    'upcoming appointment': { optedOut: false, offer: { kind: 'none' }, hasUpcomingAppointment: true },
    'opted out': { optedOut: true, offer: open, hasUpcomingAppointment: true },
  };
  const keywords = ['YES', 'Y', '1', 'NO', 'C', 'X', 'BOOK', 'EARLIER', 'R', '2', 'STOP', 'CANCEL', 'START', 'HELP', 'what?'];
  // The same table in Spanish: each Spanish reply must decide exactly what its English twin does.
  const spanish: Record<string, string> = {
    SÍ: 'YES',
    si: 'Y',
    CONFIRMAR: 'C',
    CITA: 'BOOK',
    PARAR: 'STOP',
    ALTO: 'STOP',
    CANCELAR: 'CANCEL',
    AYUDA: 'HELP',
    ANTES: 'EARLIER',
    CAMBIAR: 'R',
    REPROGRAMAR: 'R',
    '¿qué?': 'what?',
  };
  // Vietnamese twins of the newer keywords.
  const vietnamese: Record<string, string> = {
    'SỚM HƠN': 'EARLIER',
    Sớm: 'EARLIER',
    ĐỔI: 'R',
    'ĐỔI LỊCH': 'R',
    'DỜI LỊCH': 'R',
    SOONER: 'EARLIER',
    RESCHEDULE: 'R',
  };
  const answer = (template: string): ReplyAction => ({ kind: 'answer', template }) as ReplyAction;
  const yesOpen: ReplyAction = { kind: 'offer-reply', reply: 'yes', offerId: 'off-1' };
  // Rows: keyword; columns: states in the order above.
  const expected: Record<string, ReplyAction[]> = {
    YES: [answer('no-open-offer'), yesOpen, answer('offer-expired'), answer('offer-taken'), answer('no-open-offer'), { kind: 'ignore' }],
    Y: [answer('no-open-offer'), yesOpen, answer('offer-expired'), answer('offer-taken'), answer('no-open-offer'), { kind: 'ignore' }],
    '1': [answer('no-open-offer'), yesOpen, answer('offer-expired'), answer('offer-taken'), answer('no-open-offer'), { kind: 'ignore' }],
    NO: [
      answer('no-open-offer'),
      { kind: 'offer-reply', reply: 'no', offerId: 'off-1' },
      answer('offer-declined'),
      answer('offer-declined'),
      answer('no-open-offer'),
      { kind: 'ignore' },
    ],
    C: [
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      { kind: 'confirm-appointment' },
      { kind: 'ignore' },
    ],
    X: [
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      { kind: 'cancel-appointment' },
      { kind: 'ignore' },
    ],
    // EARLIER: only an upcoming appointment can be moved earlier; an open offer does not change that.
    EARLIER: [
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      { kind: 'join-move-up' },
      { kind: 'ignore' },
    ],
    R: [
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      answer('no-upcoming-appointment'),
      { kind: 'send-reschedule-link' },
      { kind: 'ignore' },
    ],
    BOOK: Array(5)
      .fill({ kind: 'send-book-list' })
      .concat([{ kind: 'ignore' }]),
    '2': Array(5)
      .fill(answer('help'))
      .concat([{ kind: 'ignore' }]),
    STOP: Array(6).fill({ kind: 'opt-out' }),
    CANCEL: Array(6).fill({ kind: 'opt-out' }),
    START: Array(6).fill({ kind: 'opt-in' }),
    HELP: Array(6).fill(answer('help')),
    'what?': Array(5)
      .fill(answer('help'))
      .concat([{ kind: 'ignore' }]),
  };
  const cases = keywords.flatMap((k) => Object.keys(states).map((s, i) => [k, s, expected[k]![i]!] as const));
  it.each(cases)('%s in state "%s"', (keyword, state, action) => {
    expect(decideReply(parseReply(keyword), states[state]!)).toEqual(action);
  });

  const spanishCases = Object.entries(spanish).flatMap(([es, twin]) => Object.keys(states).map((s, i) => [es, s, expected[twin]![i]!] as const));
  it.each(spanishCases)('Spanish %s in state "%s"', (keyword, state, action) => {
    expect(decideReply(parseReply(keyword), states[state]!)).toEqual(action);
  });

  const vietnameseCases = Object.entries(vietnamese).flatMap(([vi, twin]) => Object.keys(states).map((s, i) => [vi, s, expected[twin]![i]!] as const));
  it.each(vietnameseCases)('%s in state "%s"', (keyword, state, action) => {
    expect(decideReply(parseReply(keyword), states[state]!)).toEqual(action);
  });

  it('EARLIER and R with an upcoming appointment and an open offer at once', () => {
    const both: ReplyState = { optedOut: false, offer: open, hasUpcomingAppointment: true };
    expect(decideReply(parseReply('EARLIER'), both)).toEqual({ kind: 'join-move-up' });
    expect(decideReply(parseReply('R'), both)).toEqual({ kind: 'send-reschedule-link' });
    expect(decideReply(parseReply('R'), { ...both, bookList: { size: 3, createdAt: '2026-03-02T14:10:00Z' } })).toEqual({ kind: 'send-reschedule-link' });
  });

  describe('numbers with a BOOK list', () => {
    const list = { size: 3, createdAt: '2026-03-02T14:10:00Z' };
    const pick = (n: number): ReplyIntent => ({ kind: 'pick', number: n });
    it('pick from the list when no offer is open', () => {
      expect(decideReply(pick(2), { ...states['no offer, no appointment']!, bookList: list })).toEqual({ kind: 'book-from-list', index: 1 });
      expect(decideReply(pick(4), { ...states['no offer, no appointment']!, bookList: list })).toEqual(answer('book-pick-invalid'));
    });
    it('the newer of list and offer decides what "1" means', () => {
      expect(decideReply(pick(1), { ...states['open offer']!, bookList: list })).toEqual({ kind: 'book-from-list', index: 0 });
      const olderList = { size: 3, createdAt: '2026-03-02T13:00:00Z' };
      expect(decideReply(pick(1), { ...states['open offer']!, bookList: olderList })).toEqual(yesOpen);
    });
    it('opted-out patients cannot pick', () => {
      expect(decideReply(pick(1), { ...states['opted out']!, bookList: list })).toEqual({ kind: 'ignore' });
    });
  });
});
