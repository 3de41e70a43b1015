// The page's words, in zh-CN (the default) and English. Card text comes
// from the server in the reader's locale; these are the simulator's own.
const dict = {
  'zh-CN': {
    title: 'cardflow 聊天模拟器',
    sim: '聊天模拟器',
    people: '同事',
    chats: '群聊',
    search: '搜索同事或群聊',
    langButton: 'EN',
    langLabel: 'Switch to English',
    back: '返回列表',
    pick: '在左边选一位同事，以 TA 的身份查看卡片、点按钮、发命令。',
    botName: 'cardflow 机器人',
    chatWithBot: '与机器人的单聊',
    groupChat: '群聊',
    actAs: '以此身份操作',
    newRequest: '发起审批',
    newRequestLabel: '发起审批：选择流程并填写表单',
    composer: '输入命令，如 /todo、待办、/help',
    composerLabel: '给机器人发消息',
    send: '发送',
    sendCommand: '发送命令 {0}',
    noSimID: '没有模拟器账号（platform_ids.sim）',
    unread: '{0} 条未读',
    empty: '还没有消息。发起一个审批，或输入 /help 看看机器人会什么。',
    you: '我',
    submit: '提交',
    cancel: '取消',
    sending: '提交中…',
    link: '在控制台查看',
    edited: '已更新',
    flow: '流程',
    chooseFlow: '选择流程',
    noFlows: '没有可以发起的流程',
    choose: '请选择',
    addRow: '添加一行',
    removeRow: '删除第 {0} 行',
    row: '第 {0} 行',
    required: '必填',
    started: '已提交：{0}',
    formErrors: '表单有 {0} 处需要修改',
    error: '出错了：{0}',
    offline: '与服务器的连接断开，正在重连…',
    reloaded: '模拟器重启过，已重新加载',
    yes: '是',
    'status.pending': '待处理',
    'status.approved': '已同意',
    'status.instance.approved': '已通过',
    'status.rejected': '已拒绝',
    'status.returned': '已退回',
    'status.done': '已结束',
    'status.info': '通知',
    'status.alert': '告警',
    'status.alert_warn': '处理中',
    'problem.required': '必填',
    'problem.unknown': '不是这个表单的字段',
    'problem.type': '类型不对',
    'problem.format': '格式不正确',
    'problem.precision': '最多两位小数',
    'problem.min': '太小了',
    'problem.max': '太大了',
    'problem.max_length': '太长了',
    'problem.pattern': '格式不符合要求',
    'problem.option': '不是可选的值',
    'problem.max_rows': '行数太多',
    'problem.read_only': '不能修改',
  },
  en: {
    title: 'cardflow chat simulator',
    sim: 'chat simulator',
    people: 'People',
    chats: 'Group chats',
    search: 'Search people or chats',
    langButton: '中文',
    langLabel: '切换到中文',
    back: 'Back to the list',
    pick: 'Pick someone on the left to read their cards, click buttons and send commands as them.',
    botName: 'cardflow bot',
    chatWithBot: 'Direct chat with the bot',
    groupChat: 'Group chat',
    actAs: 'Act as',
    newRequest: 'New request',
    newRequestLabel: 'New request: pick a flow and fill in its form',
    composer: 'Type a command: /todo, 待办, /help',
    composerLabel: 'Message to the bot',
    send: 'Send',
    sendCommand: 'Send the command {0}',
    noSimID: 'No simulator id (platform_ids.sim)',
    unread: '{0} unread',
    empty: 'No messages yet. Start a request, or type /help to see what the bot can do.',
    you: 'Me',
    submit: 'Submit',
    cancel: 'Cancel',
    sending: 'Sending…',
    link: 'Open in the console',
    edited: 'updated',
    flow: 'Flow',
    chooseFlow: 'Choose a flow',
    noFlows: 'No flow can be started',
    choose: 'Choose…',
    addRow: 'Add a row',
    removeRow: 'Remove row {0}',
    row: 'Row {0}',
    required: 'required',
    started: 'Submitted: {0}',
    formErrors: '{0} fields need fixing',
    error: 'Something went wrong: {0}',
    offline: 'Lost the connection to the server; reconnecting…',
    reloaded: 'The simulator restarted; reloaded',
    yes: 'Yes',
    'status.pending': 'Pending',
    'status.approved': 'Approved',
    'status.rejected': 'Rejected',
    'status.returned': 'Returned',
    'status.done': 'Closed',
    'status.info': 'Info',
    'status.alert': 'Alert',
    'status.alert_warn': 'In hand',
    'problem.required': 'required',
    'problem.unknown': 'not a field of this form',
    'problem.type': 'wrong kind of value',
    'problem.format': 'not in the right format',
    'problem.precision': 'at most 2 decimal places',
    'problem.min': 'too small',
    'problem.max': 'too large',
    'problem.max_length': 'too long',
    'problem.pattern': 'does not match the expected pattern',
    'problem.option': 'not one of the options',
    'problem.max_rows': 'too many rows',
    'problem.read_only': 'cannot be changed',
  },
};

let lang = localStorage.getItem('cardflow.sim.lang') === 'en' ? 'en' : 'zh-CN';

// t returns the text for key in the page's language, with {0}, {1}, ...
// replaced by args.
export function t(key, ...args) {
  let s = dict[lang][key] ?? dict['zh-CN'][key] ?? key;
  args.forEach((a, i) => { s = s.replaceAll('{' + i + '}', String(a)); });
  return s;
}

export function has(key) {
  return key in dict[lang];
}

export function getLang() {
  return lang;
}

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh-CN';
  localStorage.setItem('cardflow.sim.lang', lang);
  document.documentElement.lang = lang;
}

// applyStatic translates the page's fixed elements: data-i18n sets the
// text, data-i18n-aria the aria-label, data-i18n-ph the placeholder.
export function applyStatic(root) {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
}
