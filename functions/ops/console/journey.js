// @ts-check
// An appointment's journey as a waterfall of its traces (local host only: GET /_host/traces?id= and
// /_host/traces/{traceId}, which the embedded host serves from memory; absent in Azure, where traces
// live in Application Insights). Spans carry ids and codes only; this view shows names and timings.
import { el } from './dom.js';
import { state } from './state.js';

/**
 * @typedef {{ spanId: string, name: string, kind: string, offsetMs: number, durationMs: number, status: string, children: Span[] }} Span
 * @typedef {{ traceId: string, rootSpanName: string, start: string, durationMs: number, spanCount: number }} TraceSummary
 */

/** @param {number} ms */
const duration = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/**
 * Rows of the waterfall: one per span, depth-first, indented by depth, a bar placed by start and length.
 * @param {Span[]} spans @param {number} total @param {number} depth @returns {HTMLElement[]}
 */
function rows(spans, total, depth) {
  return spans.flatMap((s) => {
    const left = total > 0 ? (s.offsetMs / total) * 100 : 0;
    const width = total > 0 ? Math.max(0.4, (s.durationMs / total) * 100) : 100;
    // Placed through CSSOM, not style attributes: the console's CSP (style-src 'self') blocks those.
    const name = el('span', { class: 'span-name', title: s.name }, s.name);
    name.style.paddingLeft = `${depth * 0.9}rem`;
    const bar = el('span', { class: 'span-bar' });
    bar.style.left = `${left.toFixed(2)}%`;
    bar.style.width = `${Math.min(width, 100 - left).toFixed(2)}%`;
    const row = el(
      'li',
      { class: `span${s.status === 'error' ? ' error' : ''}`, 'data-kind': s.kind.toLowerCase() },
      name,
      el('span', { class: 'span-track' }, bar),
      el('span', { class: 'span-time' }, `+${duration(s.offsetMs)} · ${duration(s.durationMs)}`),
    );
    return [row, ...rows(s.children, total, depth + 1)];
  });
}

/**
 * The waterfall of one trace.
 * @param {string} traceId @returns {Promise<HTMLElement>}
 */
async function waterfall(traceId) {
  const res = await fetch(`/_host/traces/${encodeURIComponent(traceId)}`, { cache: 'no-store' });
  if (!res.ok) return el('p', { class: 'hint' }, 'This trace is no longer in the local buffer.');
  /** @type {{ summary: TraceSummary, spans: Span[] }} */
  const t = await res.json();
  return el('ol', { class: 'waterfall', 'aria-label': `Trace ${traceId}` }, ...rows(t.spans, t.summary.durationMs, 0));
}

/**
 * The "Journey" section for an appointment's panel: its traces (newest first), each opening a waterfall.
 * Empty outside the local host.
 * @param {string} appointmentId @returns {HTMLElement}
 */
export function journeySection(appointmentId) {
  const box = el('section', { class: 'journey', 'aria-label': 'Journey (traces)' });
  if (!state.dev) return box;
  const view = el('div', { class: 'journey-view' });
  box.append(el('h4', {}, 'Journey (local traces)'), view);
  fetch(`/_host/traces?limit=20&id=${encodeURIComponent(appointmentId)}`, { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : { traces: [] }))
    .then((/** @type {{ traces: TraceSummary[] }} */ { traces }) => {
      if (traces.length === 0) return view.replaceChildren(el('p', { class: 'hint' }, 'No trace of this appointment in the local buffer.'));
      const list = el(
        'ul',
        { class: 'journey-traces' },
        ...traces.map((t) =>
          el(
            'li',
            {},
            el(
              'button',
              {
                type: 'button',
                class: 'link',
                onclick: async () => view.replaceChildren(list, await waterfall(t.traceId)),
              },
              `${t.rootSpanName} · ${duration(t.durationMs)} · ${t.spanCount} spans`,
            ),
          ),
        ),
      );
      view.replaceChildren(list);
    })
    .catch(() => view.replaceChildren(el('p', { class: 'hint' }, 'Traces are not available.')));
  return box;
}
