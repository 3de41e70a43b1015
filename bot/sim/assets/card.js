// A bot.Card drawn as a chat app draws an interactive card: a header
// coloured by its status, fields two to a row, tables, markdown text, an
// image, what happened, the buttons, and a button's inputs inline.
import { h, safeURL, problemText } from './dom.js';
import { renderMarkdown } from './md.js';
import { t, has } from './i18n.js';

const statuses = ['pending', 'approved', 'rejected', 'returned', 'done', 'info', 'alert', 'alert_warn'];

// renderCard returns the card's element. act(button, values) runs a
// button and resolves to null, or rejects with an APIError (whose fields,
// for a bad result form, are shown next to the inputs).
export function renderCard(card, act) {
  const status = statuses.includes(card.status) ? card.status : 'info';
  const titleID = 'card-' + Math.random().toString(36).slice(2);
  const el = h('article', { class: 'card status-' + status, 'aria-labelledby': titleID },
    h('header', { class: 'card-head' },
      h('div', { class: 'card-title', id: titleID, text: card.title || '' }),
      // A task's or an instance's state is named; a command's answer is
      // only coloured ("no open tasks" is not "approved").
      card.instance_id ? h('span', { class: 'badge', text: badge(card, status) }) : null,
      card.subtitle ? h('div', { class: 'card-sub', text: card.subtitle }) : null),
  );
  const body = h('div', { class: 'card-body' });
  el.append(body);
  if (card.fields?.length) body.append(fields(card.fields));
  for (const tb of card.tables || []) body.append(table(tb));
  if (card.text) body.append(h('div', { class: 'md' }, renderMarkdown(card.text)));
  const img = safeURL(card.image?.url, true);
  if (img) body.append(h('img', { class: 'card-img', src: img, alt: card.image.alt || '', loading: 'lazy' }));
  if (card.status_line) body.append(h('div', { class: 'status-line', text: card.status_line }));
  if (card.buttons?.length) body.append(actions(card, act));
  const link = safeURL(card.link);
  if (link) body.append(h('a', { class: 'card-link', href: link, target: '_blank', rel: 'noopener noreferrer', text: t('link') }));
  if (card.note) body.append(h('div', { class: 'note', text: card.note }));
  return el;
}

// badge names a card's status: a request as a whole is 已通过 where a task
// of it is 已处理, whether approved or completed (its status line says which).
function badge(card, status) {
  const own = (card.subject === card.instance_id ? 'status.instance.' : 'status.task.') + status;
  return has(own) ? t(own) : t('status.' + status);
}

function fields(list) {
  const dl = h('dl', { class: 'fields' });
  for (const f of list) {
    dl.append(h('div', { class: f.short ? 'field short' : 'field' },
      h('dt', { text: f.label || '' }), h('dd', { text: f.value || '' })));
  }
  return dl;
}

function table(tb) {
  const cols = tb.columns || [];
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': tb.title || cols.join(' / ') },
    h('table', {},
      tb.title ? h('caption', { text: tb.title }) : null,
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, (tb.rows || []).map((r) => h('tr', {}, r.map((c) => h('td', { text: c }))))),
    ));
}

// actions draws the buttons; one that needs input first opens the card's
// inputs, with its own label on the submit button.
function actions(card, act) {
  const box = h('div', { class: 'card-actions' });
  const bar = h('div', { class: 'buttons' });
  box.append(bar);
  let open = null;
  const busy = (on) => {
    for (const b of box.querySelectorAll('button')) b.disabled = on;
  };
  for (const btn of card.buttons) {
    const style = ['primary', 'danger'].includes(btn.style) ? btn.style : 'default';
    bar.append(h('button', {
      type: 'button', class: 'btn btn-' + style, text: btn.label,
      'aria-label': btn.label + ' · ' + (card.title || ''),
      on: {
        click: async () => {
          if (btn.needs_input && card.inputs?.length) {
            open?.remove();
            open = inputForm(inputsFor(card.inputs, btn), btn, act, busy, () => { open?.remove(); open = null; bar.hidden = false; });
            bar.hidden = true;
            box.append(open);
            // The whole form, its buttons too, comes into view.
            open.scrollIntoView({ block: 'nearest' });
            open.querySelector('input, textarea, select')?.focus({ preventScroll: true });
            return;
          }
          busy(true);
          try { await act(btn, {}); } catch { /* act has shown the error */ } finally { busy(false); }
        },
      },
    }));
  }
  return box;
}

// inputsFor picks the inputs a button submits: a task's result form, the
// fields its step may change and the comment for 办理 (complete); the
// fields and the comment for 同意 (approve); the comment box (a reason)
// for the others; all of them when the card has no comment box.
function inputsFor(inputs, btn) {
  if (btn.action === 'complete') return inputs;
  const comment = inputs.filter((i) => i.name === 'comment');
  if (btn.action === 'approve') return inputs.filter((i) => i.name.startsWith(EDIT) || i.name === 'comment');
  return comment.length ? comment : inputs;
}

// EDIT prefixes the input of a form field the step may change (bot.InputEdit);
// a problem names the field itself.
const EDIT = 'E_';

function inputForm(inputs, btn, act, busy, close) {
  const form = h('form', { class: 'card-inputs', 'aria-label': btn.label, novalidate: true });
  for (const inp of inputs) {
    const id = 'in-' + Math.random().toString(36).slice(2);
    form.append(h('div', { class: 'input-row' },
      h('label', { for: id }, inp.label || inp.name, inp.required ? h('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }) : null),
      control(inp, id),
      h('div', { class: 'problem', dataset: { path: inp.name.startsWith(EDIT) ? inp.name.slice(EDIT.length) : inp.name }, 'aria-live': 'polite' })));
  }
  form.append(h('div', { class: 'buttons' },
    h('button', { type: 'submit', class: 'btn btn-' + (btn.style === 'danger' ? 'danger' : 'primary'), text: btn.label, 'aria-label': t('submit') + ' · ' + btn.label }),
    h('button', { type: 'button', class: 'btn btn-default', text: t('cancel'), 'aria-label': t('cancel'), on: { click: close } })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const p of form.querySelectorAll('.problem')) p.textContent = '';
    if (!form.reportValidity()) return;
    const values = {};
    for (const inp of inputs) {
      const v = form.elements[inp.name]?.value ?? '';
      if (v !== '') values[inp.name] = v;
    }
    busy(true);
    try {
      await act(btn, values);
    } catch (err) {
      for (const p of err.fields || []) {
        const slot = [...form.querySelectorAll('.problem')].find((s) => s.dataset.path === p.field);
        if (slot) slot.textContent = problemText(p);
      }
    } finally {
      busy(false);
    }
  });
  return form;
}

function control(inp, id) {
  const common = { id, name: inp.name, required: !!inp.required, 'aria-label': inp.label || inp.name, placeholder: inp.placeholder || null };
  const value = inp.value ?? '';
  switch (inp.kind) {
    case 'number':
      return h('input', { ...common, type: 'number', step: 'any', inputmode: 'decimal', value });
    case 'date':
      return h('input', { ...common, type: 'date', value });
    case 'select':
      return h('select', common,
        h('option', { value: '', text: t('choose') }),
        (inp.options || []).map((o) => h('option', { value: o.value, text: o.label || o.value, selected: o.value === value })));
    default:
      return inp.name === 'comment' ? h('textarea', { ...common, rows: 2, maxlength: 2000 }) : h('input', { ...common, type: 'text', value });
  }
}
