// The route a start would take (POST api/forecast), shown in the start
// form before submission: each step with who it goes to, who the flow's
// auto-skip approves, leave proxies, CC, and steps a condition leaves out.
import { h } from './dom.js';
import { t } from './i18n.js';

const names = (people) => (people || []).map((p) => p.name).join('、');

// renderRoute returns the list of a forecast's steps.
export function renderRoute(fc) {
  const nameOf = (id) => fc.steps.find((s) => s.id === id)?.name || (id === 'end' ? t('route.end') : id);
  const items = fc.steps.map((s) => {
    const lines = [];
    switch (s.status) {
      case 'ask':
      case 'auto':
        lines.push(names(s.people));
        if (s.status === 'auto') lines.push(t('route.auto'));
        break;
      case 'not_taken':
        lines.push(t('route.notTaken', s.when_text || s.when));
        break;
      case 'routed':
        lines.push(t('route.routed', nameOf(s.to)));
        break;
      case 'fork':
        lines.push(t('route.fork'));
        break;
      case 'notify':
        lines.push(t('route.notify', names(s.people)));
        break;
      case 'alert':
        lines.push(t('route.alert', names(s.people)));
        break;
      case 'depends':
        lines.push(t('route.depends', (s.depends_on || []).map(nameOf).join('、')));
        for (const b of s.branches || []) lines.push((b.else ? t('route.else') : b.when_text || b.when) + ' → ' + (b.to_name || nameOf(b.to)));
        break;
    }
    for (const k of s.skipped || []) lines.push(t('route.skipped.' + k.reason, k.name));
    for (const p of s.proxies || []) lines.push(t('route.proxy', p.by.name, p.for.name));
    if (s.fallback) lines.push(t('route.fallback'));
    if (s.cc?.length) lines.push(t('route.cc', names(s.cc)));
    const head = s.name + (s.sign ? ' · ' + t('sign.' + (s.sequential ? 'sequential' : s.sign.replace(/:.*/, ''))) : '');
    return h('li', { class: 'route-step route-' + s.status },
      h('div', { class: 'route-name', text: head }),
      lines.filter(Boolean).map((l) => h('div', { class: 'help', text: l })));
  });
  if (!fc.complete && fc.steps.at(-1)?.status !== 'depends') items.push(h('li', { class: 'help', text: t('route.waits') }));
  return h('ol', { class: 'route', 'aria-label': t('route.title') }, items);
}
