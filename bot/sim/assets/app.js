// The simulator page: people and group chats on the left, the picked
// conversation with the bot on the right, kept live by server-sent events.
import { h, toast, initials, colour, when } from './dom.js';
import { get, post, query } from './api.js';
import { renderCard } from './card.js';
import { openStart } from './form.js';
import { t, getLang, setLang, applyStatic } from './i18n.js';

const $ = (id) => document.getElementById(id);

const state = {
  users: [],
  chats: [],
  unread: new Map(), // inbox key → count
  open: null, // {kind: 'user'|'chat', id, key}
  me: null, // the sim id acting now: the picked person, or who acts in a group chat
  messages: new Map(), // message id → message, of the open inbox
  limit: 200,
  rev: 0,
  events: null,
};

const inboxKey = (kind, id) => kind + ':' + id;
const person = (simID) => state.users.find((u) => u.sim_id === simID);

async function init() {
  applyStatic(document);
  $('lang').addEventListener('click', () => {
    setLang(getLang() === 'en' ? 'zh-CN' : 'en');
    rerender();
  });
  $('filter').addEventListener('input', renderLists);
  $('back').addEventListener('click', () => document.body.classList.remove('show-conv'));
  $('new').addEventListener('click', newRequest);
  $('actas').addEventListener('change', (ev) => { state.me = ev.target.value; });
  $('composer').addEventListener('submit', (ev) => { ev.preventDefault(); say($('text').value); });
  for (const chip of document.querySelectorAll('[data-cmd]')) {
    chip.setAttribute('aria-label', t('sendCommand', chip.dataset.cmd));
    chip.addEventListener('click', () => say(chip.dataset.cmd));
  }
  $('conv-sub').textContent = t('pick');
  window.addEventListener('hashchange', fromHash);
  try {
    await loadUsers();
  } catch (err) {
    toast('error', t('error', err.message));
    return;
  }
  if (!fromHash()) {
    const first = state.users.find((u) => u.sim_id);
    if (first && window.matchMedia('(min-width: 721px)').matches) openInbox('user', first.sim_id);
  }
}

// fromHash opens #user=<sim id> or #chat=<id>, so a link can name a person.
function fromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const kind = p.has('user') ? 'user' : p.has('chat') ? 'chat' : null;
  if (!kind || (state.open && state.open.kind === kind && state.open.id === p.get(kind))) return !!kind;
  openInbox(kind, p.get(kind));
  return true;
}

async function loadUsers() {
  const res = await get('users');
  state.users = res.users;
  state.chats = res.chats;
  for (const u of res.users) if (u.sim_id) state.unread.set(inboxKey('user', u.sim_id), u.unread);
  for (const c of res.chats) state.unread.set(inboxKey('chat', c.id), c.unread);
  renderLists();
}

function renderLists() {
  const f = $('filter').value.trim().toLowerCase();
  const match = (...s) => !f || s.some((x) => (x || '').toLowerCase().includes(f));
  show($('people'), state.users.filter((u) => match(u.name, u.department_name, u.sim_id, u.id)).map((u) =>
    entry('user', u.sim_id, u.name, u.department_name, u.id)));
  show($('chats'), state.chats.filter((c) => match(c.name, c.id)).map((c) =>
    entry('chat', c.id, c.name, t('groupChat'), 'chat:' + c.id)));
  $('chats-head').hidden = state.chats.length === 0;
}

// show puts entries in a list, keeping the button of an entry on screen
// and changing it in place: the lists are redrawn whenever a message
// comes in, and a press and release on two different buttons is no click.
function show(list, entries) {
  const shown = new Map([...list.children].map((li) => [li.dataset.key, li]));
  const lis = entries.map((fresh) => {
    const li = shown.get(fresh.dataset.key);
    if (!li) return fresh;
    const [btn, next] = [li.firstElementChild, fresh.firstElementChild];
    if (!btn.isEqualNode(next)) {
      for (const a of [...btn.attributes]) if (!next.hasAttribute(a.name)) btn.removeAttribute(a.name);
      for (const a of [...next.attributes]) btn.setAttribute(a.name, a.value);
      btn.replaceChildren(...next.childNodes);
    }
    return li;
  });
  if (lis.length !== list.children.length || lis.some((li, i) => list.children[i] !== li)) list.replaceChildren(...lis);
}

// entry is one person's or chat's line; colourKey (the user id, or
// chat:<id>) names it among the list's lines.
function entry(kind, id, name, sub, colourKey) {
  const key = inboxKey(kind, id);
  const n = id ? state.unread.get(key) || 0 : 0;
  const selected = state.open?.key === key;
  return h('li', { dataset: { key: colourKey } },
    h('button', {
      type: 'button', class: 'entry' + (selected ? ' selected' : ''), disabled: !id,
      'aria-current': selected ? 'true' : null,
      'aria-label': name + ' · ' + sub + (n ? ' · ' + t('unread', n) : '') + (id ? '' : ' · ' + t('noSimID')),
      title: id ? null : t('noSimID'),
      on: { click: () => openInbox(kind, id) },
    },
    h('span', { class: 'avatar ' + (kind === 'chat' ? 'group' : colour(colourKey)), 'aria-hidden': 'true', text: kind === 'chat' ? '#' : initials(name) }),
    h('span', { class: 'entry-text' }, h('span', { class: 'entry-name', text: name }), h('span', { class: 'entry-sub', text: sub })),
    n ? h('span', { class: 'unread', 'aria-hidden': 'true', text: n > 99 ? '99+' : String(n) }) : null));
}

// openInbox shows one conversation and follows it live.
async function openInbox(kind, id) {
  const key = inboxKey(kind, id);
  state.events?.close();
  state.events = null;
  state.open = { kind, id, key };
  $('toasts').replaceChildren(); // what they said was about the conversation left
  if (kind === 'user') state.me = id;
  else state.me ??= state.users.find((u) => u.sim_id)?.sim_id;
  history.replaceState(null, '', '#' + kind + '=' + encodeURIComponent(id));
  document.body.classList.add('show-conv');
  renderHead();
  renderLists();
  state.messages.clear();
  $('log').replaceChildren();
  try {
    await reload();
  } catch (err) {
    toast('error', t('error', err.message));
    return;
  }
  if (state.open?.key === key) follow(); // else another was picked meanwhile, and follows itself
}

async function reload() {
  const { kind, id, key } = state.open;
  const res = await get('inbox?' + query({ [kind]: id }));
  if (state.open?.key !== key) return;
  state.rev = res.rev;
  state.limit = res.limit;
  state.messages.clear();
  for (const m of res.messages) state.messages.set(m.id, m);
  renderLog();
  markRead();
}

// follow opens the event stream of the open inbox from the revision its
// messages were read at; EventSource reconnects by itself with the last id.
function follow() {
  const { kind, id, key } = state.open;
  const es = new EventSource('api/events?' + query({ [kind]: id, since: state.rev }));
  state.events = es;
  const data = (ev) => JSON.parse(ev.data);
  es.addEventListener('message', (ev) => {
    const d = data(ev);
    if (state.open?.key !== key || d.inbox !== key) return;
    upsert(d.message);
    markRead();
  });
  es.addEventListener('unread', (ev) => {
    const d = data(ev);
    if (d.inbox === key) return;
    state.unread.set(d.inbox, d.unread);
    if (d.inbox.startsWith('chat:') && !state.chats.some((c) => 'chat:' + c.id === d.inbox)) {
      loadUsers().catch(() => {}); // a group chat the bot just posted to
      return;
    }
    renderLists();
  });
  es.addEventListener('reset', () => {
    toast('info', t('reloaded'));
    reload().catch((err) => toast('error', t('error', err.message)));
  });
  es.addEventListener('sync', (ev) => { state.rev = data(ev).rev; });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) toast('error', t('offline'));
  });
}

let readTimer = null;
function markRead() {
  const open = state.open;
  if (state.unread.get(open.key)) {
    state.unread.set(open.key, 0);
    renderLists();
  }
  clearTimeout(readTimer);
  readTimer = setTimeout(() => post('read', { [open.kind]: open.id }).catch(() => {}), 300);
}

function renderHead() {
  const { kind, id } = state.open;
  const u = kind === 'user' ? person(id) : null;
  const c = kind === 'chat' ? state.chats.find((x) => x.id === id) : null;
  $('conv-title').textContent = u ? u.name : c ? c.name : id;
  $('conv-sub').textContent = u ? (u.department_name || '') + ' · ' + t('chatWithBot') : t('groupChat');
  $('conv-avatar').className = 'avatar ' + (u ? colour(u.id) : 'group');
  $('conv-avatar').textContent = u ? initials(u.name) : '#';
  $('actas-wrap').hidden = kind !== 'chat';
  $('new').hidden = kind !== 'user';
  if (kind === 'chat') {
    $('actas').replaceChildren(...state.users.filter((x) => x.sim_id).map((x) =>
      h('option', { value: x.sim_id, text: x.name, selected: x.sim_id === state.me })));
  }
  $('composer').hidden = false;
}

function renderLog() {
  const log = $('log');
  const list = [...state.messages.values()].sort((a, b) => a.seq - b.seq);
  if (!list.length) {
    log.replaceChildren(h('p', { class: 'empty', text: t('empty') }));
    return;
  }
  log.replaceChildren(...list.map(bubble));
  log.scrollTop = log.scrollHeight;
}

// upsert shows a message that arrived or changed: in place when it is on
// screen, else in order of its seq.
function upsert(m) {
  const known = state.messages.get(m.id);
  if (known && known.rev >= m.rev) return;
  state.messages.set(m.id, m);
  const log = $('log');
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  log.querySelector('.empty')?.remove();
  const el = bubble(m);
  const old = log.querySelector(`[data-id="${CSS.escape(m.id)}"]`);
  if (old) {
    old.replaceWith(el);
    el.classList.add('flash');
  } else {
    const after = [...log.children].find((c) => Number(c.dataset.seq) > m.seq);
    log.insertBefore(el, after || null);
    if (nearBottom || !after) log.scrollTop = log.scrollHeight;
  }
  const sorted = [...state.messages.values()].sort((a, b) => a.seq - b.seq);
  for (const gone of sorted.slice(0, Math.max(0, sorted.length - state.limit))) {
    state.messages.delete(gone.id);
    log.querySelector(`[data-id="${CSS.escape(gone.id)}"]`)?.remove();
  }
}

function bubble(m) {
  const mine = m.kind === 'text' && m.from === state.me;
  const who = m.kind === 'text' ? person(m.from) : null;
  const name = m.kind === 'text' ? (mine ? t('you') : who?.name || m.from) : t('botName');
  const content = m.kind === 'text'
    ? h('div', { class: 'text-bubble', text: m.text })
    : renderCard(m.card || {}, (btn, values) => act(m, btn, values));
  return h('div', { class: 'msg' + (mine ? ' mine' : ''), dataset: { id: m.id, seq: String(m.seq) } },
    h('span', { class: 'avatar small ' + (m.kind === 'text' ? colour(who?.id || m.from) : 'bot'), 'aria-hidden': 'true', text: m.kind === 'text' ? initials(who?.name || m.from) : 'CF' }),
    h('div', { class: 'msg-body' },
      h('div', { class: 'msg-meta' }, h('span', { text: name }), ' ', h('time', { datetime: m.sent_at, text: when(m.sent_at) }),
        m.updated_at !== m.sent_at && m.kind === 'card' ? h('span', { class: 'edited', text: ' · ' + t('edited') }) : null),
      content));
}

// act clicks a card's button as the acting person.
async function act(m, btn, values) {
  try {
    const res = await post('click', { user: state.me, message_id: m.id, payload: btn.payload, action: btn.action, values });
    if (res.message) upsert(res.message);
    else if (res.reply?.card) upsert({ ...m, card: res.reply.card, rev: m.rev + 0.5 });
    if (res.reply?.toast?.text) toast(res.reply.toast.kind, res.reply.toast.text);
    return null;
  } catch (err) {
    toast('error', err.fields?.length ? t('formErrors', err.fields.length) : err.message);
    throw err;
  }
}

// say sends what the person typed; the bot's answer comes back as cards.
async function say(text) {
  text = (text || '').trim();
  if (!text || !state.open) return;
  const body = { user: state.me, text };
  if (state.open.kind === 'chat') body.chat = state.open.id;
  $('text').value = '';
  try {
    const res = await post('message', body);
    if (res.inbox === state.open.key) {
      upsert(res.said);
      for (const r of res.replies) upsert(r);
      markRead();
    }
  } catch (err) {
    $('text').value = text;
    toast('error', err.message);
  }
}

async function newRequest() {
  let flows;
  try {
    flows = (await get('flows')).flows; // fresh: a flow file may have changed
  } catch (err) {
    toast('error', t('error', err.message));
    return;
  }
  openStart($('start'), state.me, flows, state.users);
}

function rerender() {
  applyStatic(document);
  for (const chip of document.querySelectorAll('[data-cmd]')) chip.setAttribute('aria-label', t('sendCommand', chip.dataset.cmd));
  renderLists();
  if (state.open) {
    renderHead();
    renderLog();
  } else $('conv-sub').textContent = t('pick');
}

init();
