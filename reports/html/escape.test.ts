import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeMarkdown, escapeXml, jsonForScript } from './escape.ts';

describe('escaping', () => {
  it('escapes HTML text and attribute values', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('writes JSON that cannot close its script element or open a comment, and reads back the same', () => {
    const value = { s: '</script><script>alert(1)</script>', c: '<!-- x -->', a: 'a & b', l: 'line\u2028sep' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/<\/|<!--|[<>&\u2028]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('escapes XML and drops the control characters XML cannot hold', () => {
    expect(escapeXml(`a\u0000b\u001b<c d="e">'`)).toBe('ab&lt;c d=&quot;e&quot;&gt;&apos;');
    expect(escapeXml('tab\tnewline\n')).toBe('tab\tnewline\n');
  });

  it('neutralises HTML and Markdown syntax in a table cell', () => {
    expect(escapeMarkdown('<img src=x> | **b** [l](u)\nnext')).toBe('&lt;img src=x&gt; \\| \\*\\*b\\*\\* \\[l\\](u) next');
  });
});
