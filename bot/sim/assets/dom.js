// Building elements from nodes, never from markup strings: everything shown on the page that
// comes from the server (card text is what people typed) becomes text
// nodes or checked attributes, never markup.
import { getLang, t } from './i18n.js';

// h creates an element. attrs: class, text, on ({event: fn}), dataset
// ({key: value}), boolean and string properties or attributes; children:
// nodes or strings (as text), null and false skipped, arrays flattened.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) throw new Error('use on: {...} for ' + k);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// safeURL returns url when it is an http(s) link (or, for images, a data
// image), resolved against the page; null for anything else
// (script URLs, data:text/html, ...).
export function safeURL(url, image = false) {
  if (typeof url !== 'string' || url === '') return null;
  if (image && /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(url)) return url;
  try {
    const u = new URL(url, location.href);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

// toast shows a short message over the page for a few seconds.
export function toast(kind, text) {
  const box = document.getElementById('toasts');
  const el = h('div', { class: 'toast toast-' + (['success', 'info', 'warning', 'error'].includes(kind) ? kind : 'info'), text });
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 6000 : 3500);
}

// initials is an avatar's text: a Chinese name's surname, or the first
// letters of two words.
export function initials(name) {
  const s = (name || '?').trim();
  if (/^[\u3400-\u9fff]/.test(s)) return s[0];
  const words = s.split(/[\s._-]+/).filter(Boolean);
  return ((words[0]?.[0] || '?') + (words[1]?.[0] || '')).toUpperCase();
}

// colour picks one of the avatar colours from an id.
export function colour(id) {
  let n = 0;
  for (const ch of id || '') n = (n * 31 + ch.codePointAt(0)) >>> 0;
  return 'c' + (n % 8);
}

// when writes a message time: the clock today, month-day and clock before.
export function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const locale = getLang() === 'en' ? 'en-GB' : 'zh-CN';
  const time = d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return d.toLocaleDateString(locale, { month: 'numeric', day: 'numeric' }) + ' ' + time;
}

// problemText says what is wrong with a field in the page's language,
// with the engine's own words after it.
export function problemText(p) {
  // A rule of the flow says what is wrong in its own words.
  if (p.code === 'rule') return (getLang() === 'en' && p.says_en) || p.says || p.message;
  const key = 'problem.' + p.code;
  const local = t(key);
  if (local === key) return p.message;
  if (getLang() === 'en') return local + ' (' + p.message + ')';
  // The bound it broke, as the form file wrote it: 最少 0, 最多 20, the help.
  if (!p.limit) return local;
  if (p.code === 'pattern') return local + '（' + p.limit + '）';
  return local + '（' + (p.code === 'min' ? '最少 ' : '最多 ') + p.limit + '）';
}
