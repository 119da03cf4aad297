import { z } from 'zod';
import { parseDuration } from './duration.ts';

/** A duration string (`500ms`, `3s`, `1m30s`) as a schema, with a message that shows the form. */
export const durationSchema = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: "expected a duration such as '500ms', '3s', '2m' or '1m30s'",
});
