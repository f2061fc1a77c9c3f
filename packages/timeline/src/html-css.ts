/**
 * The transcript's stylesheet: self-contained (system fonts, no image, no import), so the
 * export inlines it and the review page serves it as a file of its own (its CSP forbids
 * inline styles).
 */
export const TIMELINE_CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #5b6470; --line: #d8dde3; --in: #ffffff;
  --out: #e7f4e4; --event: #f3f4f6; --del: #b42318; --ins: #067647; --accent: #175cd3; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #f7f8fa; }
header, main { max-width: 60rem; margin: 0 auto; padding: 0.5rem 1rem; }
h1 { font-size: 1.3rem; margin: 0.8rem 0 0.2rem; }
h2 { font-size: 1rem; margin: 1.2rem 0 0.4rem; position: sticky; top: 0; background: #f7f8fa;
  padding: 0.3rem 0; border-bottom: 1px solid var(--line); }
.subtitle { margin: 0; color: var(--muted); }
.tz, .type, .facts, .unknown { color: var(--muted); font-size: 0.85em; }
code { font: 0.85em/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  overflow-wrap: anywhere; }
ol.timeline { list-style: none; margin: 0; padding: 0; }
.entry { margin: 0.4rem 0; padding: 0.45rem 0.7rem; border: 1px solid var(--line);
  border-radius: 6px; background: var(--in); max-width: 46rem; }
.entry.out { background: var(--out); margin-left: auto; }
.entry.event { background: var(--event); max-width: none; font-size: 0.9em; color: var(--muted); }
.entry:target { outline: 2px solid var(--accent); }
.head { display: flex; flex-wrap: wrap; gap: 0.2rem 0.5rem; align-items: baseline; }
.dir { font-size: 0.75em; text-transform: uppercase; letter-spacing: 0.04em; padding: 0 0.3rem;
  border-radius: 3px; background: var(--event); }
.sender bdi { font-weight: 600; }
.text { margin: 0.3rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
del { color: var(--del); }
ins { color: var(--ins); text-decoration: none; font-weight: 600; }
q::before, q::after { content: '"'; }
.edit, .delete, .reaction, .poll-update { margin-top: 0.3rem; }
.was, .now { white-space: pre-wrap; overflow-wrap: anywhere; }
.delete .label, .mark { font-size: 0.8em; font-weight: 600; border-radius: 3px; padding: 0 0.3rem; }
.delete .label, .mark.deleted { background: #fee4e2; color: var(--del); }
.mark.edited { background: #fef0c7; color: #93370d; }
blockquote.reply { margin: 0.3rem 0 0; padding-left: 0.6rem; border-left: 3px solid var(--line);
  color: var(--muted); }
.file { margin-top: 0.3rem; overflow-wrap: anywhere; }
.file.missing { color: var(--del); }
.image img { display: block; margin-top: 0.3rem; max-width: 100%; max-height: 24rem;
  border-radius: 4px; }
ul.attached { list-style: none; margin: 0.3rem 0 0; padding: 0.2rem 0 0;
  border-top: 1px dashed var(--line); font-size: 0.9em; }
a { color: var(--accent); }
.empty { color: var(--muted); }
@media print { h2 { position: static; } .entry { break-inside: avoid; } }
`;
