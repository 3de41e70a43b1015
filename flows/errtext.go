package flows

import (
	"errors"
	"strings"
)

// ErrorInfo is what people are told about an engine error: a stable code
// that clients act on, and a short text in Chinese and English. The full
// error, with its chain, is for the log only: it names tasks, steps and
// storage, which people need not read.
type ErrorInfo struct {
	Code string
	ZH   string
	EN   string
}

// Text returns the text for a locale ("en" for English, Chinese otherwise).
func (i ErrorInfo) Text(locale string) string {
	if strings.HasPrefix(locale, "en") {
		return i.EN
	}
	return i.ZH
}

// errorInfos lists, in the order they are tested, every error the engine
// returns to people.
var errorInfos = []struct {
	err  error
	info ErrorInfo
}{
	{ErrInvalidForm, ErrorInfo{"invalid_form", "表单有误，请检查标出的字段", "Some fields of the form are not valid"}},
	{ErrInvalidInput, ErrorInfo{"invalid_input", "输入的内容无法保存（过长或含有无效字符）", "The input cannot be saved (too long or invalid characters)"}},
	{ErrUnavailable, ErrorInfo{"unavailable", "服务暂时不可用，请稍后重试", "The service is temporarily unavailable; please try again"}},
	{ErrNotAssignee, ErrorInfo{"not_assignee", "你不是这个任务的处理人", "You are not assigned to this task"}},
	{ErrNotApplicant, ErrorInfo{"not_applicant", "只有申请人可以这样做", "Only the applicant may do this"}},
	{ErrNotAdmin, ErrorInfo{"not_admin", "只有管理员可以这样做", "Only an administrator may do this"}},
	{ErrNotParticipant, ErrorInfo{"not_participant", "你没有参与这个流程", "You do not take part in this request"}},
	{ErrAlreadyDecided, ErrorInfo{"already_decided", "这个任务已经处理过了", "This task was already handled"}},
	{ErrTaskNotOpen, ErrorInfo{"task_not_open", "还没轮到你处理", "It is not your turn yet"}},
	{ErrOutdated, ErrorInfo{"outdated", "这张卡片已过期：流程刚有变化，请在更新后的卡片上再操作一次",
		"This card is out of date: the request just changed; act again on the updated card"}},
	{ErrInstanceFinished, ErrorInfo{"instance_finished", "流程已经结束", "The request is already finished"}},
	{ErrNotApplicable, ErrorInfo{"not_applicable", "这个操作在当前状态下不可用", "This is not possible at this point"}},
	{ErrStaleVersion, ErrorInfo{"conflict", "有人同时处理了这个流程，请刷新后重试", "Someone else changed this request at the same time; please retry"}},
	{ErrInvalidTarget, ErrorInfo{"invalid_target", "选择的对象无效", "That choice is not valid here"}},
	{ErrCommentRequired, ErrorInfo{"comment_required", "请填写原因", "Please give a reason"}},
	{ErrRateLimited, ErrorInfo{"rate_limited", "操作太频繁，请稍后再试", "Too often; please wait a little"}},
	{ErrKeyReused, ErrorInfo{"idempotency_key_reused", "重复的请求与第一次的内容不同", "This repeated request differs from the first one"}},
	{ErrNoAssignee, ErrorInfo{"no_assignee", "找不到可以处理这一步的人，请联系管理员", "Nobody can take this step; please ask an administrator"}},
	{ErrUnknownUser, ErrorInfo{"unknown_user", "通讯录中没有这个用户", "This user is not in the directory"}},
	{ErrUnknownAction, ErrorInfo{"unknown_action", "不支持的操作", "Unknown action"}},
	{ErrNotSupported, ErrorInfo{"not_supported", "暂不支持这个操作", "This is not supported yet"}},
	{ErrNotFound, ErrorInfo{"not_found", "找不到这条记录，可能已被删除", "Not found; it may have been removed"}},
}

// internalInfo is what people are told of an error the engine does not
// name: nothing of its text, which may hold internals.
var internalInfo = ErrorInfo{"internal", "操作失败，请稍后重试；如果一直失败，请联系管理员",
	"Something went wrong; please try again, and tell an administrator if it keeps failing"}

// Describe returns the code and texts people see for err; Known is false
// for an error the engine does not name (then log it in full).
func Describe(err error) (info ErrorInfo, known bool) {
	for _, e := range errorInfos {
		if errors.Is(err, e.err) {
			return e.info, true
		}
	}
	return internalInfo, false
}
