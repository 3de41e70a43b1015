// The "new request" form, built from a flow's typed fields: text, numbers,
// money with two decimals, dates, enums as selects, people of the org as a
// select, links, yes/no, and tables as editable rows. The engine checks
// the form; its problems are shown next to each field.
import { h, problemText, toast } from './dom.js';
import { post } from './api.js';
import { t } from './i18n.js';
import { renderRoute } from './route.js';

let uid = 0;
const nextID = () => 'f' + (++uid);

// openStart shows the dialog for person me (a sim id); users are the org's
// people (for user fields), flows those GET api/flows lists.
export function openStart(dialog, me, flows, users) {
  dialog.replaceChildren();
  const titleID = nextID();
  const pick = h('select', { id: nextID(), 'aria-label': t('chooseFlow') },
    flows.map((f) => h('option', { value: f.id, text: f.name + (f.description ? ' — ' + f.description : '') })));
  const fieldsBox = h('div', { class: 'form-fields' });
  const summary = h('div', { class: 'form-summary', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: t('submit'), 'aria-label': t('submit') });
  const routeBox = h('div', { class: 'form-route', 'aria-live': 'polite' });
  const preview = h('button', { type: 'button', class: 'btn btn-default', text: t('preview'), 'aria-label': t('preview') });
  const form = h('form', { class: 'start-form', novalidate: true, 'aria-labelledby': titleID },
    h('h2', { id: titleID, text: t('newRequest') }),
    flows.length ? h('label', { class: 'form-row' }, h('span', { text: t('flow') }), pick) : h('p', { text: t('noFlows') }),
    summary, fieldsBox, routeBox,
    h('div', { class: 'buttons form-buttons' },
      h('button', { type: 'button', class: 'btn btn-default', text: t('cancel'), 'aria-label': t('cancel'), on: { click: () => dialog.close() } }),
      flows.length ? preview : null,
      flows.length ? submit : null));
  dialog.append(form);
  let current = null;
  const show = () => {
    current = flows.find((f) => f.id === pick.value);
    summary.textContent = '';
    routeBox.replaceChildren();
    fieldsBox.replaceChildren(...(current?.fields || []).map((f) => fieldRow(f, f.key, users)));
  };
  pick.addEventListener('change', show);
  show();
  // The route is asked of the engine as the form stands, before submission:
  // the same checks as a start, nothing started.
  preview.addEventListener('click', async () => {
    if (!current) return;
    for (const p of form.querySelectorAll('.problem')) p.textContent = '';
    summary.textContent = '';
    routeBox.replaceChildren();
    try {
      const res = await post('forecast', { user: me, flow_id: current.id, form: collect(current.fields, fieldsBox) });
      routeBox.replaceChildren(h('h3', { text: t('route.title') }), renderRoute(res.forecast));
      routeBox.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      showProblems(form, summary, err);
    }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!current) return;
    for (const p of form.querySelectorAll('.problem')) p.textContent = '';
    summary.textContent = '';
    submit.disabled = true;
    submit.textContent = t('sending');
    try {
      const res = await post('start', { user: me, flow_id: current.id, form: collect(current.fields, fieldsBox) });
      dialog.close();
      toast('success', t('started', current.name));
      return res;
    } catch (err) {
      showProblems(form, summary, err);
    } finally {
      submit.disabled = false;
      submit.textContent = t('submit');
    }
  });
  dialog.showModal();
  (flows.length ? pick : form.querySelector('button')).focus();
}

function showProblems(form, summary, err) {
  if (!err.fields?.length) {
    summary.textContent = err.message;
    return;
  }
  summary.textContent = t('formErrors', err.fields.length);
  const slots = [...form.querySelectorAll('.problem')];
  let first = null;
  for (const p of err.fields) {
    // A cell's problem ("items[0].sku") goes to its cell, else to its table.
    const slot = slots.find((s) => s.dataset.path === p.field) ||
      slots.find((s) => s.dataset.path === p.field.replace(/\[.*$/, ''));
    if (slot) {
      slot.textContent = (slot.textContent ? slot.textContent + '; ' : '') + problemText(p);
      first ??= slot;
    } else summary.textContent += ' · ' + (p.field ? p.field + ': ' : '') + problemText(p);
  }
  first?.parentElement.querySelector('input, select, textarea')?.focus();
}

// fieldRow is one labelled field; path is its key, or "table[i].key" in a
// table row.
function fieldRow(f, path, users, inRow = false) {
  const id = nextID();
  const label = f.label || f.key;
  const isTable = f.type === 'table';
  const ctl = isTable ? tableControl(f, id, path, users) : input(f, id, path, users);
  return h(inRow ? 'td' : 'div', { class: inRow ? 'cell' : 'form-row field-' + f.type, dataset: inRow ? {} : { field: f.key } },
    inRow ? null : h(isTable ? 'div' : 'label', isTable ? { class: 'label', id: id + '-label' } : { for: id }, label, f.required ? h('span', { class: 'req', text: ' *', 'aria-hidden': 'true' }) : null),
    ctl,
    f.help && !inRow ? h('div', { class: 'help', text: f.help }) : null,
    h('div', { class: 'problem', dataset: { path }, 'aria-live': 'polite' }));
}

function input(f, id, _path, users) {
  const common = { id, dataset: { key: f.key, type: f.type }, required: f.required, 'aria-label': (f.label || f.key) + (f.required ? ' (' + t('required') + ')' : '') };
  switch (f.type) {
    case 'text':
      return h('textarea', { ...common, rows: 3, maxlength: f.max_length || 5000 });
    case 'number':
      return h('input', { ...common, type: 'number', step: 'any', inputmode: 'decimal', min: f.min, max: f.max });
    case 'money':
      return money(common);
    case 'date':
      return h('input', { ...common, type: 'date' });
    case 'enum':
      return h('select', common, h('option', { value: '', text: t('choose') }), (f.options || []).map((o) => h('option', { value: o, text: (f.option_labels || {})[o] || o })));
    case 'bool':
      return h('input', { ...common, type: 'checkbox', required: false });
    case 'user':
      return h('select', common, h('option', { value: '', text: t('choose') }),
        users.map((u) => h('option', { value: u.id, text: u.name + ' · ' + (u.department_name || u.department) })));
    case 'attachment':
      return h('input', { ...common, type: 'url', placeholder: 'https://…' });
    default:
      return h('input', { ...common, type: 'text', maxlength: f.max_length || 200 });
  }
}

// money is an amount kept as text (never a float) and shown with two
// decimals once the field is left.
function money(common) {
  const el = h('input', { ...common, type: 'text', inputmode: 'decimal', placeholder: '0.00', autocomplete: 'off' });
  el.addEventListener('blur', () => {
    const m = /^\s*(-?)(\d+)(?:\.(\d{0,2}))?\s*$/.exec(el.value.replace(/[,，¥￥]/g, ''));
    if (m) el.value = m[1] + m[2].replace(/^0+(?=\d)/, '') + '.' + (m[3] || '').padEnd(2, '0');
  });
  return h('span', { class: 'money' }, h('span', { class: 'currency', 'aria-hidden': 'true', text: '¥' }), el);
}

function tableControl(f, id, path, users) {
  const cols = f.columns || [];
  const body = h('tbody');
  const renumber = () => {
    [...body.rows].forEach((tr, i) => {
      tr.querySelector('th').textContent = String(i + 1);
      tr.querySelector('.remove').setAttribute('aria-label', t('removeRow', i + 1));
      for (const p of tr.querySelectorAll('.problem')) p.dataset.path = path + '[' + i + '].' + p.dataset.col;
    });
  };
  const addRow = () => {
    const i = body.rows.length;
    const tr = h('tr', { class: 'row' }, h('th', { scope: 'row', text: String(i + 1) }),
      cols.map((c) => {
        const cell = fieldRow({ ...c, label: t('row', i + 1) + ' ' + (c.label || c.key) }, path + '[' + i + '].' + c.key, users, true);
        cell.querySelector('.problem').dataset.col = c.key;
        return cell;
      }),
      h('td', {}, h('button', { type: 'button', class: 'btn btn-small remove', text: '×', 'aria-label': t('removeRow', i + 1), on: { click: () => { tr.remove(); renumber(); } } })));
    body.append(tr);
    renumber();
  };
  addRow();
  const max = f.max_rows || 0;
  return h('div', { class: 'table-edit', role: 'group', id, 'aria-labelledby': id + '-label' },
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { text: '#' }), cols.map((c) => h('th', { scope: 'col' }, c.label || c.key, c.required ? h('span', { class: 'req', text: ' *' }) : null)), h('th', {}))),
      body)),
    h('button', {
      type: 'button', class: 'btn btn-default btn-small', text: '+ ' + t('addRow'), 'aria-label': t('addRow') + ' · ' + (f.label || f.key),
      on: { click: () => { if (!max || body.rows.length < max) addRow(); } },
    }),
  );
}

// collect reads the form's values: text as typed (numbers and money too,
// so that the engine reads them exactly), yes/no as booleans, tables as
// lists of rows; empty values and empty rows are left out.
function collect(fields, box) {
  const out = {};
  for (const f of fields) {
    const row = [...box.children].find((c) => c.dataset.field === f.key);
    if (!row) continue;
    if (f.type === 'table') {
      const rows = [];
      for (const tr of row.querySelectorAll('tbody tr')) {
        const cells = {};
        for (const c of f.columns || []) {
          const v = value(c, tr.querySelector(`[data-key="${CSS.escape(c.key)}"]`));
          if (v !== undefined && v !== false) cells[c.key] = v;
        }
        if (Object.keys(cells).length) rows.push(cells);
      }
      if (rows.length) out[f.key] = rows;
      continue;
    }
    const v = value(f, row.querySelector('[data-key]'));
    if (v !== undefined) out[f.key] = v;
  }
  return out;
}

function value(f, el) {
  if (!el) return undefined;
  if (f.type === 'bool') return el.checked;
  const v = el.value.trim();
  if (v === '') return undefined;
  return f.type === 'money' ? v.replace(/[,，¥￥]/g, '') : v;
}
