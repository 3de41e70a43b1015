package console

import (
	"fmt"
	"net/http"
	"strings"
)

// Locales the console is written in; the first is the default.
const (
	localeZH = "zh-CN"
	localeEN = "en"
)

// langCookie keeps the language a reader switched to.
const langCookie = "cf_console_lang"

// catalogue holds every text of the console in both languages; a test
// checks that the two have the same keys.
var catalogue = map[string]map[string]string{
	localeZH: zh,
	localeEN: en,
}

// zh is the console in Chinese, the default.
var zh = map[string]string{
	"app":                  "cardflow 控制台",
	"skip":                 "跳到正文",
	"menu":                 "菜单",
	"nav.dashboard":        "概览",
	"nav.flows":            "流程定义",
	"nav.instances":        "流程实例",
	"nav.tasks":            "待办任务",
	"nav.alerts":           "告警",
	"nav.deadletters":      "死信",
	"nav.org":              "组织通讯录",
	"nav.sim":              "聊天模拟器",
	"lang.switch":          "English",
	"lang.label":           "切换语言",
	"logout":               "退出登录",
	"acting":               "以 %s 的身份操作",
	"login.title":          "登录",
	"login.name":           "用户名",
	"login.password":       "密码",
	"login.submit":         "登录",
	"login.token":          "管理令牌",
	"login.token.hint":     "也可以用 server.admin_tokens 中的管理令牌登录。",
	"login.token.submit":   "用令牌登录",
	"login.bad":            "用户名或密码不正确",
	"login.wait":           "尝试次数过多，请 %d 秒后再试",
	"login.expired":        "登录已过期，请重新登录",
	"login.out":            "已退出登录",
	"err.csrf":             "页面已过期，请刷新后重试",
	"err.notfound":         "找不到这条记录",
	"err.internal":         "操作失败，请稍后重试；如果一直失败，请联系管理员",
	"dash.title":           "概览",
	"dash.instances":       "各状态的流程实例",
	"dash.overdue":         "超时未处理的任务",
	"dash.outbox":          "待发送消息（outbox）",
	"dash.outbox.lag":      "最早一条已等待 %s",
	"dash.outbox.none":     "没有积压",
	"dash.queue":           "队列积压",
	"dash.sends":           "各平台发送情况",
	"dash.sends.note":      "自本实例启动以来的计数；多实例部署时每个实例各自计数。",
	"dash.sends.none":      "本实例还没有发送过卡片",
	"dash.capped":          "（只统计前 %d 条）",
	"col.state":            "状态",
	"col.count":            "数量",
	"col.platform":         "平台",
	"col.ok":               "成功",
	"col.failed":           "失败",
	"col.topic":            "主题",
	"col.depth":            "积压",
	"col.id":               "编号",
	"col.flow":             "流程",
	"col.title":            "标题",
	"col.applicant":        "申请人",
	"col.created":          "发起时间",
	"col.updated":          "更新时间",
	"col.step":             "步骤",
	"col.assignee":         "处理人",
	"col.due":              "截止时间",
	"col.actions":          "操作",
	"col.version":          "版本",
	"col.name":             "名称",
	"col.time":             "时间",
	"col.actor":            "操作人",
	"col.action":           "动作",
	"col.detail":           "详情",
	"col.recipient":        "接收人",
	"col.sent":             "发送时间",
	"col.message":          "消息编号",
	"col.attempts":         "尝试次数",
	"col.error":            "最后错误",
	"col.failed_at":        "失败时间",
	"col.department":       "部门",
	"col.manager":          "直属上级",
	"col.roles":            "角色",
	"col.platform_ids":     "平台账号",
	"col.user":             "请假人",
	"col.by":               "代理人",
	"col.from":             "开始",
	"col.until":            "结束",
	"col.flows":            "适用流程",
	"col.source":           "来源",
	"col.status":           "状态",
	"col.kind":             "类型",
	"status.running":       "进行中",
	"status.approved":      "已通过",
	"status.rejected":      "已拒绝",
	"status.completed":     "已完成",
	"status.withdrawn":     "已撤回",
	"status.cancelled":     "已取消",
	"any":                  "全部",
	"filter":               "筛选",
	"search":               "按编号或标题搜索",
	"next":                 "下一页",
	"empty":                "没有记录",
	"inst.title":           "流程实例",
	"inst.form":            "表单",
	"inst.current":         "当前步骤",
	"inst.timeline":        "审批记录",
	"inst.cards":           "已发送的卡片",
	"inst.urge":            "催办",
	"inst.urged":           "已催办",
	"inst.flow":            "流程定义",
	"tasks.title":          "待办任务",
	"tasks.assignee":       "处理人（用户编号）",
	"tasks.overdue":        "已超时",
	"tasks.to":             "转交给",
	"tasks.transfer":       "转交",
	"tasks.transferred":    "已转交",
	"tasks.comment":        "说明",
	"flows.title":          "流程定义",
	"flows.diagram":        "流程图",
	"flows.versions":       "版本",
	"flows.compare":        "对比版本",
	"flows.left":           "左侧版本",
	"flows.right":          "右侧版本",
	"flows.changed":        "与另一侧不同的步骤已高亮",
	"flows.source":         "定义文件",
	"flows.diagram.alt":    "%s 第 %d 版的流程图",
	"alerts.title":         "告警",
	"alerts.ack":           "认领",
	"alerts.resolve":       "已解决",
	"alerts.snooze":        "暂停提醒",
	"alerts.minutes":       "暂停分钟数",
	"alerts.acked":         "已认领",
	"alerts.resolved":      "已标记为解决",
	"alerts.snoozed":       "已暂停提醒",
	"dl.title":             "死信",
	"dl.payload":           "消息内容",
	"dl.replay":            "重新投递",
	"dl.replayed":          "已重新投递",
	"dl.inspect":           "查看",
	"dl.key":               "关联实例",
	"dl.discard":           "丢弃",
	"dl.discard.warn":      "丢弃后这条消息将被永久删除，无法再重新投递。",
	"dl.discard.confirm":   "确认丢弃",
	"dl.discarded":         "已丢弃",
	"dl.gone":              "这条死信已不存在（可能已被重新投递或丢弃）",
	"org.title":            "组织通讯录",
	"org.users":            "成员",
	"org.proxies":          "请假代理",
	"org.delegations":      "委派中的任务",
	"org.always":           "全部流程",
	"back":                 "返回",
	"alerts.hint":          "认领、解决和暂停提醒只能由告警的值班处理人（或其请假代理人）操作：这里操作的是你所代表的用户收到的告警。",
	"tasks.hint":           "转交只能由任务的处理人（或其请假代理人）发起：在这里转交的是你所代表的用户自己的任务；别人的任务可以催办。",
	"act.assign":           "分派处理人",
	"act.pass":             "步骤通过",
	"act.end":              "流程结束",
	"act.fallback":         "转给兜底处理人",
	"act.fork":             "并行分支开始",
	"act.join":             "并行分支汇合",
	"act.route":            "条件分支",
	"act.notify":           "通知",
	"system":               "系统",
	"card.task":            "任务卡片",
	"card.instance":        "流程卡片",
	"col.card":             "卡片",
	"act.start":            "发起",
	"act.approve":          "同意",
	"act.reject":           "拒绝",
	"act.complete":         "完成",
	"act.return":           "退回",
	"act.resubmit":         "重新提交",
	"act.transfer":         "转交",
	"act.delegate":         "委派",
	"act.delegate_done":    "委派完成",
	"act.add_signer":       "加签",
	"act.remove_signer":    "减签",
	"act.comment":          "评论",
	"act.urge":             "催办",
	"act.withdraw":         "撤回",
	"act.cancel":           "取消",
	"act.skip":             "跳过",
	"act.remind":           "超时提醒",
	"act.escalate":         "超时升级",
	"act.escalate_skipped": "升级未执行",
	"act.acknowledge":      "认领告警",
	"act.snooze":           "暂停提醒",
	"act.resolve":          "解决告警",
	"act.auto_resolve":     "自动解决",
	"act.alert_fire":       "告警触发",
	"act.alert_page":       "通知值班",
	"act.alert_escalate":   "告警升级",
	"act.alert_group":      "告警合并",
	"act.alert_dedupe":     "重复告警",
}

// tr translates key into locale, formatting args into it; a missing key
// shows as itself, which the catalogue test prevents.
func tr(locale, key string, args ...any) string {
	s, ok := catalogue[locale][key]
	if !ok {
		s = key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// localeOf picks the request's language: the switch (a cookie), else the
// operator's configured locale, else zh-CN.
func localeOf(r *http.Request, configured string) string {
	if c, err := r.Cookie(langCookie); err == nil {
		if _, ok := catalogue[c.Value]; ok {
			return c.Value
		}
	}
	if strings.HasPrefix(configured, "en") {
		return localeEN
	}
	return localeZH
}
