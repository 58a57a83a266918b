/** XML-escapes text for a TwiML body. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A TwiML messaging response with one optional message. */
export function twiml(message?: string): string {
  const inner = message === undefined ? '' : `<Message>${xmlEscape(message)}</Message>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`;
}
