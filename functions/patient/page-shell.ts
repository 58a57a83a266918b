import { xmlEscape as esc } from './twiml';

/**
 * The one shell of the patient pages (/book/{token}, /book/slot/{slotId}): server-rendered, small,
 * accessible, mobile-first, no script.
 */

/**
 * Headers of every patient page: not framed, cached, indexed or leaking its URL (a link token)
 * through Referer; no script runs, forms post only to the page's own origin.
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

const STYLE = `
:root{color-scheme:light dark;--accent:#0b5cad;--bg:#fff;--fg:#1b1b1b;--muted:#555;--card:#f3f6fa}
@media (prefers-color-scheme:dark){:root{--accent:#7db7ff;--bg:#111;--fg:#eee;--muted:#bbb;--card:#1d232b}}
*{box-sizing:border-box}body{margin:0;font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:32rem;margin:0 auto;padding:1.25rem 1rem 2rem}h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1rem;margin:1.2rem 0 .4rem;color:var(--muted)}
.clinic,.muted{color:var(--muted)}.clinic{margin:0}fieldset{border:0;padding:0;margin:0}legend{font-weight:600;margin-bottom:.25rem;padding:0}
label.slot{display:flex;align-items:center;gap:.75rem;min-height:48px;padding:.6rem .9rem;margin:.4rem 0;border-radius:.6rem;background:var(--card);border:2px solid transparent;cursor:pointer}
label.slot:has(input:checked){border-color:var(--accent)}input[type=radio]{width:1.3rem;height:1.3rem;accent-color:var(--accent)}
label.check{display:flex;align-items:center;gap:.75rem;min-height:48px;margin:.8rem 0 0}input[type=checkbox]{width:1.3rem;height:1.3rem;accent-color:var(--accent)}
label.field{display:block;margin:1rem 0 .3rem;font-weight:600}input[type=tel]{font:inherit;width:100%;min-height:48px;padding:.5rem;border-radius:.5rem}
button{position:sticky;bottom:.75rem;width:100%;min-height:48px;margin-top:1.2rem;box-shadow:0 2px 8px rgba(0,0,0,.25);border:0;border-radius:.6rem;background:var(--accent);color:#fff;font:inherit;font-weight:600}
button:focus-visible,label.slot:focus-within{outline:3px solid var(--accent);outline-offset:2px}
.notice{padding:1rem;border-radius:.6rem;background:var(--card)}.small{color:var(--muted);font-size:.9rem}`;

/** A whole patient page: `body` is trusted HTML (callers escape what they interpolate), `title` is escaped here; `lang` is a BCP 47 tag. */
export function renderPage(title: string, body: string, lang = 'en'): string {
  return `<!doctype html><html lang="${esc(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}
