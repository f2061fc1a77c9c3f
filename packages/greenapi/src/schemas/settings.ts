import { z } from 'zod';

/**
 * A yes/no setting. The docs spell them `"yes"` / `"no"` (docs/greenapi.md §7.4); a boolean is
 * read too, since nothing promises every product (MAX, later versions) keeps the strings.
 */
const flagSchema = z.union([z.enum(['yes', 'no']), z.boolean()]);

/**
 * `getSettings`: only the fields the archiver reads are typed; every other field is kept as
 * it came, so a field Green-API adds later is neither lost nor a parse failure.
 */
export const settingsResponseSchema = z.looseObject({
  wid: z.string().nullish(),
  webhookUrl: z.string().nullish(),
  webhookUrlToken: z.string().nullish(),
  incomingWebhook: flagSchema.optional(),
  outgoingMessageWebhook: flagSchema.optional(),
  outgoingAPIMessageWebhook: flagSchema.optional(),
  outgoingWebhook: flagSchema.optional(),
  stateWebhook: flagSchema.optional(),
  editedMessageWebhook: flagSchema.optional(),
  deletedMessageWebhook: flagSchema.optional(),
  pollMessageWebhook: flagSchema.optional(),
  incomingCallWebhook: flagSchema.optional(),
  outgoingCallWebhook: flagSchema.optional(),
});

/** `setSettings` answers `{"saveSettings": true}` (docs/greenapi.md §7.4). */
export const setSettingsResponseSchema = z.looseObject({ saveSettings: z.boolean() });

/** `getStateInstance`; values beyond the documented ones are kept as text (§4.8, §12). */
export const stateInstanceResponseSchema = z.looseObject({ stateInstance: z.string().min(1) });

export type InstanceSettings = z.infer<typeof settingsResponseSchema>;
/** What `setSettings` is sent: only the fields to change ("selective specification"). */
export type SettingsUpdate = Record<string, string>;
export type StateInstance = z.infer<typeof stateInstanceResponseSchema>['stateInstance'];

/** A yes/no setting as Green-API reported it: on only when it says yes. */
export function settingOn(value: unknown): boolean {
  return value === 'yes' || value === true;
}
