package bot

import (
	"fmt"
	"strings"
	"time"

	"cardflow/flows"
)

// msg names one text of the cards; messages holds it in each locale.
type msg int

// The texts of the cards. Arguments are written %[n]s so that a locale may
// put them in its own order.
const (
	mSystem msg = iota
	mYes
	mNo
	mSubmitted
	mDue
	mFired
	mActingFor
	mOnBehalfOf
	mStatusOwn
	mStatusBy
	mTransferredTo
	mEscalatedTo
	mDelegatedTo
	mWaiting
	mWaitingOn
	mSnoozedUntil
	mAutoResolved
	mBtnApprove
	mBtnReject
	mBtnReturnApplicant
	mBtnReturnTo
	mBtnComplete
	mBtnResubmit
	mBtnWithdraw
	mBtnUrge
	mBtnAcknowledge
	mBtnSnooze
	mBtnResolve
	mInComment
	mInCommentHint
	mInNote
	mInMessage
	mInReason
	mNoteReminder
	mNoteOverdue
	mNoteEscalated
	mNoteTransfer
	mNoteDelegate
	mNoteAdded
	mNoteReturn
	mNoteResumed
	mNoteCC
	mNoteAlertEscalated
	mNoteAlertNew
	mNoteAlertRepeat
	mNoteAlertWake
	mQuote
	mResubmitHint
	mReturnedToYou
	mSeeResubmitCard
	mNow
	mWaitingFor
	mNowApplicant
	mVerbQuote
	mSignAny
	mSignAll
	mLast
	mAlerts
	mAlertCount
	mAlertsN
	mAlertLast
	mAlertResolved
	mCommented
	mFormSubmitted
	mListSep // the last: the tests go up to it
)

// messages are the texts in Chinese and in English.
var messages = map[msg][2]string{
	mSystem:     {"系统", "System"},
	mYes:        {"是", "Yes"},
	mNo:         {"否", "No"},
	mSubmitted:  {"%[1]s 提交于 %[2]s", "submitted by %[1]s, %[2]s"},
	mDue:        {"截止 %[1]s", "due %[1]s"},
	mFired:      {"触发于 %[1]s", "fired %[1]s"},
	mActingFor:  {"%[1]s（代 %[2]s）", "%[1]s (for %[2]s)"},
	mOnBehalfOf: {"代 %[1]s 处理", "On behalf of %[1]s"},
	// 已同意 · 钱多多 · 10:42 / Approved · 钱多多 · 10:42
	mStatusOwn: {"已%[1]s · %[2]s · %[3]s", "%[1]s · %[2]s · %[3]s"},
	// 已由 钱多多 同意 · 10:42 / Approved by 钱多多 · 10:42
	mStatusBy:      {"已由 %[2]s %[1]s · %[3]s", "%[1]s by %[2]s · %[3]s"},
	mTransferredTo: {"已转交给 %[1]s · %[2]s", "Transferred to %[1]s · %[2]s"},
	mEscalatedTo:   {"已超时转交给 %[1]s · %[2]s", "Escalated to %[1]s · %[2]s"},
	mDelegatedTo:   {"已委派给 %[1]s，等其处理后交回", "Delegated to %[1]s; back to you once they act"},
	mWaiting:       {"等待前序处理人", "Waiting for the signers before you"},
	mWaitingOn:     {"等待 %[1]s 处理", "Waiting for %[1]s"},
	mSnoozedUntil:  {"已暂停提醒至 %[1]s · %[2]s", "Snoozed until %[1]s · %[2]s"},
	mAutoResolved:  {"已自动恢复 · %[1]s", "Resolved by itself · %[1]s"},

	mBtnApprove:         {"同意", "Approve"},
	mBtnReject:          {"拒绝", "Reject"},
	mBtnReturnApplicant: {"退回申请人", "Return to applicant"},
	mBtnReturnTo:        {"退回至 %[1]s", "Return to %[1]s"},
	mBtnComplete:        {"完成", "Complete"},
	mBtnResubmit:        {"重新提交", "Resubmit"},
	mBtnWithdraw:        {"撤回", "Withdraw"},
	mBtnUrge:            {"催办", "Urge"},
	mBtnAcknowledge:     {"认领", "Acknowledge"},
	mBtnSnooze:          {"暂停提醒 1 小时", "Snooze 1h"},
	mBtnResolve:         {"解决", "Resolve"},

	mInComment:     {"意见", "Comment"},
	mInCommentHint: {"拒绝或退回时必填", "Required to reject or return"},
	mInNote:        {"备注", "Note"},
	mInMessage:     {"留言", "Message"},
	mInReason:      {"原因", "Reason"},

	mNoteReminder:       {"⏰ %[1]s 催办", "⏰ Reminder from %[1]s"},
	mNoteOverdue:        {"⏰ 已超时，请尽快处理", "⏰ Overdue: please act on it"},
	mNoteEscalated:      {"⬆️ 原处理人超时未处理，已转交给你", "⬆️ Escalated to you: the time limit passed"},
	mNoteTransfer:       {"↪️ %[1]s 转交给你", "↪️ Transferred to you by %[1]s"},
	mNoteDelegate:       {"↪️ %[1]s 委派给你，处理后交回", "↪️ Delegated to you by %[1]s; it goes back to them"},
	mNoteAdded:          {"➕ %[1]s 加签给你", "➕ %[1]s added you as a signer"},
	mNoteReturn:         {"↩️ %[1]s 退回", "↩️ Returned by %[1]s"},
	mNoteResumed:        {"↩️ 已回到你这里，请决定", "↩️ Back to you to decide"},
	mNoteCC:             {"📋 抄送 · %[1]s", "📋 Copied at %[1]s"},
	mNoteAlertEscalated: {"⬆️ 无人认领，已升级给你", "⬆️ Nobody acknowledged: escalated to you"},
	mNoteAlertNew:       {"🆕 有新告警加入", "🆕 New alerts joined"},
	mNoteAlertRepeat:    {"🔁 仍未解决", "🔁 Still firing"},
	mNoteAlertWake:      {"⏰ 暂停提醒已结束，告警仍在", "⏰ The snooze ended and it still fires"},
	mQuote:              {"%[1]s：「%[2]s」", "%[1]s: “%[2]s”"},

	mResubmitHint:    {"可直接重新提交；如需修改表单，请在控制台修改后提交。", "Resubmit it as it is, or change the form in the console first."},
	mReturnedToYou:   {"**已退回给你**", "**Returned to you**"},
	mSeeResubmitCard: {"重新提交或撤回，请在你的待办卡片上操作。", "Resubmit or withdraw it on your to-do card."},
	mNow:             {"**当前**：%[1]s — %[2]s", "**Now**: %[1]s — %[2]s"},
	mWaitingFor:      {"等待 %[1]s", "waiting for %[1]s"},
	mNowApplicant:    {"**当前**：等待申请人重新提交", "**Now**: waiting for the applicant to resubmit"},
	mVerbQuote:       {"%[1]s「%[2]s」", "%[1]s “%[2]s”"},
	mSignAny:         {"（或签）", " (any one)"},
	mSignAll:         {"（会签）", " (all)"},
	mLast:            {"**最近**：%[1]s %[2]s · %[3]s", "**Last**: %[1]s %[2]s · %[3]s"},
	mAlerts:          {"**告警 %[1]d 条**", "**%[1]d alerts**"},
	mAlertCount:      {"%[1]d 次", "%[1]d×"},
	mAlertsN:         {"%[1]d 条告警", "%[1]d alerts"},
	mAlertLast:       {"最近 %[1]s", "last %[1]s"},
	mAlertResolved:   {"已恢复", "resolved"},
	mCommented:       {"%[1]s 评论于 %[2]s", "%[1]s commented, %[2]s"},
	mListSep:         {"、", ", "},
	mFormSubmitted:   {"这张表单已经提交过了；如需再次发起，请重新打开表单", "This form was already submitted; open the form again to start another"},
}

// verbs say what an outcome did, in Chinese (同意, as in 已同意 and
// 已由 X 同意) and in English (approved, as in "Approved" and "钱多多
// approved").
var verbs = map[string][2]string{
	"approve":       {"同意", "approved"},
	"auto_approve":  {"自动同意", "approved automatically"},
	"reject":        {"拒绝", "rejected"},
	"auto_reject":   {"超时拒绝", "rejected automatically"},
	"return":        {"退回", "returned"},
	"done":          {"完成", "completed"},
	"complete":      {"完成", "completed"},
	"transfer":      {"转交", "transferred"},
	"delegate":      {"委派", "delegated"},
	"add_signer":    {"加签", "added signers"},
	"remove_signer": {"减签", "removed"},
	"escalate":      {"超时转交", "escalated"},
	"withdraw":      {"撤回", "withdrew"},
	"cancel":        {"作废", "cancelled"},
	"resubmit":      {"重新提交", "resubmitted"},
	"acknowledge":   {"认领", "acknowledged"},
	"snooze":        {"暂停提醒", "snoozed"},
	"resolve":       {"解决", "resolved"},
	"auto_resolve":  {"自动恢复", "resolved by itself"},
}

// instanceWords name an instance's status.
var instanceWords = map[flows.InstanceStatus][2]string{
	flows.InstanceRunning:   {"进行中", "In progress"},
	flows.InstanceApproved:  {"已通过", "Approved"},
	flows.InstanceRejected:  {"已拒绝", "Rejected"},
	flows.InstanceCompleted: {"已完成", "Completed"},
	flows.InstanceWithdrawn: {"已撤回", "Withdrawn"},
	flows.InstanceCancelled: {"已作废", "Cancelled"},
}

// tr writes the texts of one locale.
type tr struct{ en bool }

func translator(l Locale) tr {
	return tr{en: l == LocaleEN || strings.HasPrefix(string(l), "en-")}
}

func (t tr) pick(pair [2]string) string {
	if t.en {
		return pair[1]
	}
	return pair[0]
}

// s writes message m with args.
func (t tr) s(m msg, args ...any) string {
	f := t.pick(messages[m])
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// verb is what outcome did, lower case in English; the outcome itself
// when it has no word.
func (t tr) verb(outcome string) string {
	if v, ok := verbs[outcome]; ok {
		return t.pick(v)
	}
	return outcome
}

// done is an outcome as a status line starts: 同意 (written 已同意 by
// mStatusOwn) or Approved.
func (t tr) done(outcome string) string {
	v := t.verb(outcome)
	if t.en && v != "" {
		return strings.ToUpper(v[:1]) + v[1:]
	}
	return v
}

// status names an instance's status.
func (t tr) status(s flows.InstanceStatus) string {
	if w, ok := instanceWords[s]; ok {
		return t.pick(w)
	}
	return string(s)
}

// InstanceStatusText names an instance's status for a reader of l, as
// the instance's own card does: 进行中, 已通过 (In progress, Approved).
func InstanceStatusText(l Locale, s flows.InstanceStatus) string {
	return translator(l).status(s)
}

// list joins names as the locale does: 钱多多、孙会计 / 钱多多, 孙会计.
func (t tr) list(names []string) string { return strings.Join(names, t.s(mListSep)) }

// when writes a time for a reader in zone: 10:42 today, 03-14 10:42 (Mar
// 14 10:42) this year, 2026-03-14 10:42 (Mar 14, 2026 10:42) otherwise.
func (t tr) when(at, now time.Time, zone *time.Location) string {
	at, now = at.In(zone), now.In(zone)
	switch {
	case at.Year() == now.Year() && at.YearDay() == now.YearDay():
		return at.Format("15:04")
	case at.Year() == now.Year() && t.en:
		return at.Format("Jan 2 15:04")
	case at.Year() == now.Year():
		return at.Format("01-02 15:04")
	case t.en:
		return at.Format("Jan 2, 2006 15:04")
	}
	return at.Format("2006-01-02 15:04")
}

// groupDigits writes a plain decimal number with thousands separators in
// its whole part: 12000.5 → 12,000.5. Anything else is returned as it is.
func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" {
		return sign + s
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// mdEscape keeps text a person typed (a comment, a reason) from being read
// as markdown: a comment cannot make a link or bold text on a card.
func mdEscape(s string) string {
	return mdEscaper.Replace(s)
}

// EscapeMarkdown keeps text from elsewhere (a flow's name, a shop's) from
// being read as markdown when it is written into a card's Text.
func EscapeMarkdown(s string) string {
	return mdEscape(s)
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `[`, `\[`, `]`, `\]`,
	`<`, `&lt;`, `>`, `&gt;`, `#`, `\#`, `~`, `\~`)
