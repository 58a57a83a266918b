import { RISK_APPOINTMENT_FIELDS, type RiskAppointmentFacts } from '../../../../domain/risk/features';
import { fromHistoryRow, parseHistory, type PastAppointment } from '../../../../domain/risk/history';
import { RiskScorer, riskModelSchema, trainRiskModel, evaluateRiskModel, type LogisticRiskModel } from '../../../../domain/risk/model';
import { generateHistory, toNdjson } from '../../../../testkit/risk-history';

const trainedAt = '2026-06-01T00:00:00Z';
const synthetic = generateHistory({ appointments: 12_000, seed: 11 });
const past = synthetic.rows.map((r) => fromHistoryRow(r, 24));

describe('no-show risk model', () => {
  const model = trainRiskModel(past, { clinicId: 'synthetic', trainedAt }) as LogisticRiskModel;

  it('learns the generating model: signs and rough sizes of the strong effects, and a useful AUC on later visits', () => {
    expect(model.kind).toBe('logistic');
    expect(model.training.converged).toBe(true);
    expect(model.weights.noShowHistory).toBeGreaterThan(0.5);
    expect(model.weights.leadTime).toBeGreaterThan(0.2);
    expect(model.weights.confirmed).toBeLessThan(-0.5);
    expect(model.weights['type:PROC']).toBeLessThan(0);
    expect(model.metrics!.auc).toBeGreaterThan(0.68);
    expect(model.metrics!.n).toBeGreaterThan(1500);
    expect(model.features.baseRate).toBeGreaterThan(0.15);
    expect(model.features.baseRate).toBeLessThan(0.3);
  });

  it('round-trips through JSON and evaluates the same on the later part', () => {
    const loaded = riskModelSchema.parse(JSON.parse(JSON.stringify(model)));
    const again = evaluateRiskModel(loaded, past, loaded.trainedThrough);
    expect(again.n).toBe(model.metrics!.n);
    expect(again.auc).toBeCloseTo(model.metrics!.auc!, 10);
  });

  it('is deterministic: the same history gives the same version', () => {
    expect(trainRiskModel(past, { clinicId: 'synthetic', trainedAt }).modelVersion).toBe(model.modelVersion);
  });

  describe('scores with factors in plain words', () => {
    const scorer = new RiskScorer(model);
    const start = '2026-03-09T08:00:00-05:00';
    const day = 86_400_000;
    const startMs = Date.parse(start);
    const noShow = (daysBefore: number) => ({ startMs: startMs - daysBefore * day, outcome: 'noshow' as const });
    const attended = (daysBefore: number) => ({ startMs: startMs - daysBefore * day, outcome: 'attended' as const });
    const farAhead: RiskAppointmentFacts = { start, createdAt: '2026-01-23T08:00:00-05:00', appointmentType: 'FU' };

    it('a patient with 3 recent no-shows booked 45 days ahead is high risk, and the factors say why', () => {
      const risk = scorer.score(farAhead, [noShow(30), noShow(90), noShow(200), attended(300)]);
      expect(risk.band).toBe('high');
      expect(risk.modelVersion).toBe(model.modelVersion);
      const texts = risk.factors.map((f) => f.text);
      expect(texts).toContain('3 no-shows in the last year');
      expect(texts).toContain('booked 45 days ahead');
      expect(risk.factors.every((f) => f.effect === 'raises')).toBe(true);
      expect(risk.factors.length).toBeLessThanOrEqual(3);
    });

    it('a confirmed regular who always comes, booked the day before, is low risk', () => {
      const risk = scorer.score({ start, createdAt: '2026-03-08T10:00:00-05:00', appointmentType: 'PROC', confirmedAt: '2026-03-08T12:00:00-05:00' }, [
        attended(20),
        attended(60),
        attended(120),
        attended(250),
      ]);
      expect(risk.band).toBe('low');
      expect(risk.factors.some((f) => f.effect === 'lowers')).toBe(true);
      expect(risk.factors.map((f) => f.text)).toContain('no no-shows in 4 visits in the last year');
    });

    it('no-shows older than the window do not count', () => {
      const old = scorer.score(farAhead, [noShow(400), noShow(500)]);
      const none = scorer.score(farAhead, []);
      expect(old.score).toBe(none.score);
    });

    it('a name, phone or free text cannot reach the features', () => {
      // The facts type has exactly these fields (a compile-time check: adding one breaks this line).
      const fields: readonly (keyof RiskAppointmentFacts)[] = RISK_APPOINTMENT_FIELDS;
      expect([...fields].sort()).toEqual(['appointmentType', 'confirmedAt', 'createdAt', 'start']);
      const withPhi = { ...farAhead, name: 'Ada Lovelace', phone: '+14155550123', notes: 'worried about the biopsy' } as RiskAppointmentFacts;
      const a = scorer.score(withPhi, [noShow(30)]);
      const b = scorer.score(farAhead, [noShow(30)]);
      expect(a).toEqual(b);
      expect(JSON.stringify(a)).not.toMatch(/Ada|4155550123|biopsy/);
    });

    it('a history file with names and phones trains the same model, and the model holds none of them', () => {
      const rows = synthetic.rows.slice(0, 4000);
      const text = toNdjson(rows.map((r, i) => ({ ...r, name: `Patient Name ${i}`, phone: `+1415555${String(i).padStart(4, '0')}`, notes: 'free text note' })));
      const tainted = trainRiskModel(
        parseHistory(text).map((r) => fromHistoryRow(r, 24)),
        { clinicId: 'synthetic', trainedAt, minimum: { labelled: 100, noShows: 10, attended: 10 } },
      );
      const clean = trainRiskModel(
        rows.map((r) => fromHistoryRow(r, 24)),
        { clinicId: 'synthetic', trainedAt, minimum: { labelled: 100, noShows: 10, attended: 10 } },
      );
      expect(tainted).toEqual(clean);
      expect(JSON.stringify(tainted)).not.toMatch(/Patient Name|\+1415555|free text/);
    });
  });

  describe('too little history', () => {
    const few: PastAppointment[] = past.slice(0, 300);

    it('falls back to the clinic-wide rate and says so in the model document', () => {
      const fallback = trainRiskModel(few, { clinicId: 'small', trainedAt });
      expect(fallback.kind).toBe('clinic-rate');
      if (fallback.kind !== 'clinic-rate') return;
      expect(fallback.reason).toMatch(/too little history/);
      expect(fallback.reason).toMatch(/at least 500 visits/);
      expect(fallback.rate).toBeGreaterThan(0.1);
      expect(fallback.rate).toBeLessThan(0.35);
      const risk = new RiskScorer(fallback).score({ start: '2026-03-09T08:00:00-05:00', createdAt: '2026-03-01T08:00:00-05:00', appointmentType: 'FU' }, []);
      expect(risk.score).toBe(Math.round(fallback.rate * 1000) / 1000);
      expect(risk.band).toBe('medium');
      expect(risk.factors).toEqual([expect.objectContaining({ code: 'clinic-rate' })]);
    });

    it('with no history at all the rate is the assumed prior', () => {
      const empty = trainRiskModel([], { clinicId: 'new', trainedAt });
      expect(empty.kind).toBe('clinic-rate');
      if (empty.kind === 'clinic-rate') expect(empty.rate).toBeCloseTo(0.23, 10);
    });
  });
});
