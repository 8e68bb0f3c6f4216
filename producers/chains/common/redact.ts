/**
 * An endpoint URL as it may appear in logs, metrics, errors and the status table: origin
 * only, since paths, queries and user info often hold API keys.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    const hidden = parsed.pathname.length > 1 || parsed.search.length > 0 || parsed.username !== ''
    return `${parsed.protocol}//${parsed.host}${hidden ? '/***' : ''}`
  } catch {
    return '<unparseable url>'
  }
}

/** Every URL in a text, reduced to what redactUrl shows. */
export const redactUrls = (text: string) =>
  text.replace(/\b(?:https?|wss?):\/\/[^\s"',)}]+/g, (url) => redactUrl(url))
