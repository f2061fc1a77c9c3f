/**
 * RFC 4180 CSV: a field with a comma, a quote, a line break or surrounding spaces is quoted,
 * and quotes inside it doubled. Lines end in CRLF, as the RFC and spreadsheets expect.
 */
export function csvField(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(fields: ReadonlyArray<string | number | undefined | null>): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
