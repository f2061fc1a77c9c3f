/**
 * Reading a message's payload (`messageData`) the way a reviewer reads it: the message it
 * refers to and its text. Payload objects are named `<typeMessage>Data` with a few exceptions
 * (docs/greenapi.md §12); every read here is defensive, since a body is kept whatever its shape.
 */

type Data = Record<string, unknown>;

/** How a message relates to the one it names by `stanzaId`. */
export type Relation = 'edit' | 'delete' | 'reaction' | 'pollUpdate' | 'reply';

export type Reference = { stanzaId: string; relation: Relation };

/**
 * The message this one changes or answers: an edit or deletion names the message edited or
 * deleted, a poll update its poll, a reaction and a quoted reply the message quoted.
 */
export function referenceOf(messageData: Data): Reference | undefined {
  const type = messageData.typeMessage;
  const own =
    type === 'editedMessage'
      ? (['edit', messageData.editedMessageData] as const)
      : type === 'deletedMessage'
        ? (['delete', messageData.deletedMessageData] as const)
        : type === 'pollUpdateMessage'
          ? (['pollUpdate', messageData.pollMessageData] as const)
          : undefined;
  if (own) {
    const stanzaId = stringAt(own[1], 'stanzaId');
    return stanzaId ? { stanzaId, relation: own[0] } : undefined;
  }
  const quoted = stringAt(messageData.quotedMessage, 'stanzaId');
  if (!quoted) return undefined;
  return { stanzaId: quoted, relation: type === 'reactionMessage' ? 'reaction' : 'reply' };
}

/** Keys that hold a payload's human text, in the order they are tried. */
const TEXT_KEYS = [
  'textMessage',
  'text',
  'caption',
  'contentText',
  'selectedDisplayText',
  'selectedButtonText',
  'title',
  'name',
  'displayName',
  'nameLocation',
  'groupName',
] as const;

/** The text a reviewer reads for a message; undefined when it has none (a bare file). */
export function messageText(messageData: Data): string | undefined {
  const type = typeof messageData.typeMessage === 'string' ? messageData.typeMessage : '';
  switch (type) {
    case 'textMessage':
      return stringAt(messageData.textMessageData, 'textMessage');
    case 'extendedTextMessage':
    case 'quotedMessage':
    case 'reactionMessage':
      return stringAt(messageData.extendedTextMessageData, 'text');
    case 'editedMessage':
      return stringAt(messageData.editedMessageData, 'textMessage');
    case 'deletedMessage':
      return undefined;
    case 'locationMessage': {
      const d = messageData.locationMessageData;
      const place = [stringAt(d, 'nameLocation'), stringAt(d, 'address')].filter(Boolean);
      const lat = numberAt(d, 'latitude');
      const lon = numberAt(d, 'longitude');
      if (lat !== undefined && lon !== undefined) place.push(`${lat},${lon}`);
      return place.length ? place.join(' · ') : undefined;
    }
    case 'pollMessage': {
      const d = messageData.pollMessageData;
      const options = arrayAt(d, 'options')
        .map((o) => stringAt(o, 'optionName'))
        .filter((o): o is string => o !== undefined);
      const name = stringAt(d, 'name') ?? '';
      return options.length ? `${name} [${options.join(' | ')}]` : name || undefined;
    }
    case 'pollUpdateMessage': {
      const votes = arrayAt(messageData.pollMessageData, 'votes').map((v) => {
        const voters = arrayAt(v, 'optionVoters').length;
        return `${stringAt(v, 'optionName') ?? '?'}: ${voters}`;
      });
      return votes.length ? votes.join(', ') : undefined;
    }
    default:
      return genericText(messageData, type);
  }
}

/**
 * The text of the message named by `referenceOf`, as this message itself carries it: a reply
 * or reaction quotes it (`quotedMessage`), a poll update names its poll. Edits and deletions
 * carry none. For a reader that no longer holds the named message.
 */
export function carriedText(messageData: Data): string | undefined {
  if (messageData.typeMessage === 'pollUpdateMessage') {
    return stringAt(messageData.pollMessageData, 'name');
  }
  const quoted = messageData.quotedMessage;
  for (const key of TEXT_KEYS) {
    const text = stringAt(quoted, key);
    if (text) return text;
  }
  return undefined;
}

/** `<typeMessage>Data`, then the file payload, then any `…Data` object, for a known text key. */
function genericText(messageData: Data, type: string): string | undefined {
  const candidates = [messageData[`${type}Data`], messageData.fileMessageData];
  for (const [key, value] of Object.entries(messageData)) {
    if (key.endsWith('Data')) candidates.push(value);
  }
  for (const candidate of candidates) {
    for (const key of TEXT_KEYS) {
      const text = stringAt(candidate, key);
      if (text) return text;
    }
  }
  return undefined;
}

function stringAt(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Data)[key];
  return typeof field === 'string' && field !== '' ? field : undefined;
}

function numberAt(value: unknown, key: string): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Data)[key];
  return typeof field === 'number' ? field : undefined;
}

function arrayAt(value: unknown, key: string): unknown[] {
  if (typeof value !== 'object' || value === null) return [];
  const field = (value as Data)[key];
  return Array.isArray(field) ? field : [];
}
