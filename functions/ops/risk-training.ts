import { app, type InvocationContext, type Timer } from '@azure/functions';
import { isDomainError } from '../../domain';
import { trainClinicRiskModel } from '../../domain/risk';
import { getServices } from '../app/services';

/**
 * Nightly no-show model training (02:30 UTC): each clinic's model is refitted on its own finished
 * appointments and stored as a new version with its test metrics; a clinic with too little history
 * gets the clinic-wide rate (docs/no-show-risk.md). One clinic's failure does not stop the others.
 */
export async function trainRiskModels(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = await getServices();
  let failed = 0;
  for (const clinic of await services.config.listClinics()) {
    try {
      const model = await trainClinicRiskModel(services, clinic.clinicId);
      const auc = model.metrics?.auc;
      context.log(
        `risk model ${clinic.clinicId}: v${model.version} ${model.kind} ${model.modelVersion}, ${model.training.labelled} visits` +
          `${typeof auc === 'number' && Number.isFinite(auc) ? `, test AUC ${auc.toFixed(3)}` : ''}`,
      );
    } catch (e) {
      failed++;
      // Ids and codes only: the error could come from any adapter.
      context.error(`risk model ${clinic.clinicId}: training failed (${isDomainError(e) ? e.code : e instanceof Error ? e.name : 'error'})`);
    }
  }
  if (failed > 0) throw new Error(`risk model training failed for ${failed} clinic(s)`);
}

app.timer('riskModelTraining', { schedule: '0 30 2 * * *', handler: trainRiskModels });
