/**
 * The request schemas of the scheduling API (functions/api), validated at the edge with zod. Other
 * trigger areas import API schemas only from here (dependency rule trigger-areas-meet-through-schemas).
 */
import { z } from 'zod';
import { appointmentTypeCodeSchema, entityIdSchema, instantSchema, localDateSchema } from '../../domain';

/**
 * An instant in a query string. A `+` offset sent unencoded arrives as a space; read it back as `+`
 * rather than failing every client that forgot to encode it.
 */
export const queryInstantSchema = z
  .string()
  .max(40)
  .transform((s) => s.replace(/ (\d{2}:\d{2})$/, '+$1'))
  .pipe(instantSchema);

export const slotQuerySchema = z
  .object({
    clinicId: entityIdSchema,
    appointmentType: appointmentTypeCodeSchema,
    from: queryInstantSchema,
    to: queryInstantSchema,
    providerId: entityIdSchema.optional(),
  })
  .strict();

export const scheduleQuerySchema = z.object({ clinicId: entityIdSchema, date: localDateSchema, providerId: entityIdSchema.optional() }).strict();
