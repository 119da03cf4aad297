/**
 * Escaping for every place a user-provided string (scenario, design, fault names, descriptions)
 * can land in a report. Nothing user-provided is written anywhere without one of these.
 */

const htmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values alike. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => htmlEntities[c]!);
}

/**
 * JSON that is safe inside a `<script>` element: `<`, `>` and `&` become `\u003c`-style escapes,
 * so no string can close the element (`</script>`) or open a comment (`<!--`), and U+2028/2029
 * are escaped for older parsers that treat them as line ends.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Characters XML 1.0 forbids even when escaped (C0 controls other than tab, LF and CR). */
const xmlForbidden = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Escapes text for XML element content and attribute values, dropping characters XML cannot hold. */
export function escapeXml(text: unknown): string {
  return String(text).replace(xmlForbidden, '').replace(/[&<>"']/g, (c) => (c === "'" ? '&apos;' : htmlEntities[c]!));
}

/**
 * Escapes text for a Markdown table cell rendered by GitHub: HTML is neutralised (GitHub renders
 * raw HTML in Markdown), the Markdown punctuation that can start emphasis, code, a link or a cell is backslash-escaped, and line breaks become spaces.
 */
export function escapeMarkdown(text: unknown): string {
  return String(text)
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => htmlEntities[c]!);
}
