// The markdown cards carry: **bold**, [links](https://…), `code` and lists
// ("- ", "* ", "1. "); everything else is shown as the text it is. Nothing
// is parsed as HTML: card text is user input.
import { h, safeURL } from './dom.js';

const inlinePattern = /\*\*(.+?)\*\*|\[([^\]\n]+)\]\(([^()\s]+)\)|`([^`\n]+)`/g;

// inline turns one line into text, <strong> and <a> nodes.
function inline(text, bold = true) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(inlinePattern)) {
    if (m[1] !== undefined && !bold) continue; // no bold inside bold
    out.push(text.slice(last, m.index));
    if (m[1] !== undefined) {
      out.push(h('strong', {}, inline(m[1], false)));
    } else if (m[4] !== undefined) {
      out.push(h('code', { text: m[4] }));
    } else {
      const href = safeURL(m[3]);
      out.push(href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, m[2]) : m[0]);
    }
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((s) => s !== '');
}

const bullet = /^\s*[-*]\s+(.*)$/;
const numbered = /^\s*\d+[.)]\s+(.*)$/;

// renderMarkdown returns the nodes of a card's markdown text: paragraphs
// (lines joined by line breaks), bulleted and numbered lists.
export function renderMarkdown(text) {
  const frag = document.createDocumentFragment();
  let para = null;
  let list = null;
  for (const line of String(text ?? '').split(/\r?\n/)) {
    const b = bullet.exec(line);
    const n = b ? null : numbered.exec(line);
    if (b || n) {
      const tag = b ? 'ul' : 'ol';
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag);
        frag.append(list);
      }
      list.append(h('li', {}, inline((b || n)[1])));
      para = null;
      continue;
    }
    list = null;
    if (line.trim() === '') {
      para = null;
      continue;
    }
    if (para) para.append(h('br'));
    else {
      para = h('p');
      frag.append(para);
    }
    para.append(...inline(line).map((x) => (typeof x === 'string' ? document.createTextNode(x) : x)));
  }
  return frag;
}
