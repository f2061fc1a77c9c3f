/**
 * HTML that is safe by construction: text interpolated into `markup\`…\`` is escaped unless it
 * is already SafeHtml, so a message text, a sender name or a key can never become markup.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for an element's content and for a quoted attribute value alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

type Part = SafeHtml | string | number | undefined | null | false | readonly Part[];

function render(part: Part): string {
  if (part === undefined || part === null || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join('');
  return escapeHtml(String(part as string | number));
}

/** Tagged template: literal parts kept, interpolations escaped (arrays joined, nullish dropped). */
export function markup(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup built elsewhere and trusted as is (constants of this package only). */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

/**
 * A link target handed in by the caller (a zip path, a review-page URL): relative paths and
 * http(s) only, so a `javascript:` or `data:` URL never reaches an href or src.
 */
export function safeUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  if (scheme && !['http', 'https'].includes(scheme[1]!.toLowerCase())) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\s]/.test(url)) return undefined;
  return url;
}
