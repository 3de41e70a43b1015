package sim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"cardflow/flows"
)

// msg is a message for people, in zh-CN (the default) and English.
type msg struct{ zh, en string }

func (m msg) in(lang string, args ...any) string {
	if lang == "en" {
		return fmt.Sprintf(m.en, args...)
	}
	return fmt.Sprintf(m.zh, args...)
}

// lang is the language of a request's error messages: the language of the
// person it acts as, for what happens in their chat (see asPerson); else
// English when its Accept-Language starts with en (the page's English
// toggle sends "en"), zh-CN otherwise.
func lang(r *http.Request) string {
	if l, ok := r.Context().Value(personLang{}).(string); ok {
		return l
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "en") {
		return "en"
	}
	return "zh-CN"
}

// personLang carries the language of the person a request acts as.
type personLang struct{}

// asPerson is r answered in u's language: a click or a message is theirs,
// as its answer would be on a real chat app, whatever the page's language.
func asPerson(r *http.Request, u flows.User) *http.Request {
	l := "zh-CN"
	if u.Locale == "en" {
		l = "en"
	}
	return r.WithContext(context.WithValue(r.Context(), personLang{}, l))
}

var (
	msgNoRoute      = msg{"没有这个接口：%s", "no such route: %s"}
	msgMethod       = msg{"此接口不接受 %s，请用 %s", "%s is not allowed here; use %s"}
	msgUnwired      = msg{"模拟器没有接入引擎，页面暂不可用", "the simulator is not wired to the engine: the page is unavailable"}
	msgJSONOnly     = msg{"请求体须为 JSON（Content-Type: application/json）", "the body must be JSON (Content-Type: application/json)"}
	msgTooLarge     = msg{"请求体超过了 %d 字节的上限", "the body is larger than the limit of %d bytes"}
	msgBadJSON      = msg{"请求体不是有效的 JSON：%v", "the body is not valid JSON: %v"}
	msgWhich        = msg{"请指定 user（人）或 chat（群聊）之一", "name exactly one of user (a person) or chat (a group chat)"}
	msgUnknownUser  = msg{"组织里没有模拟器账号为“%s”的人", "nobody of the org has the sim id %q"}
	msgUnknownChat  = msg{"没有这个群聊：%s", "no such group chat: %s"}
	msgUnknownFlow  = msg{"没有这个流程：%s", "no such flow: %s"}
	msgNotStartable = msg{"流程“%s”由事件触发，不能手动发起", "flow %q is opened by its events and cannot be started by hand"}
	msgInvalidForm  = msg{"表单有 %d 处需要修改", "%d fields of the form need fixing"}
	msgNoAssignee   = msg{"这个流程的第一步找不到处理人，请联系管理员", "nobody can be assigned to the flow's first step; ask an administrator"}
	msgBadAction    = msg{"未知的操作：%s", "unknown action: %s"}
	msgBadPayload   = msg{"按钮数据无效", "the button's payload is invalid"}
	msgBadSince     = msg{"since 须为不小于 0 的整数", "since must be a whole number, 0 or more"}
	msgUnavailable  = msg{"服务暂时不可用，请稍后再试", "the service is temporarily unavailable; try again shortly"}
	msgInternal     = msg{"出错了，请稍后再试（详情见服务器日志）", "something went wrong; try again (the server log has the details)"}
	msgCannotSave   = msg{"%s：输入的内容无法保存（过长或含有无效字符）", "%s: cannot be saved (too long, or holding invalid characters)"}
	// msgInputCannotSave is msgCannotSave when no field is named.
	msgInputCannotSave = msg{"输入的内容无法保存（过长或含有无效字符）", "The input cannot be saved (too long, or holding invalid characters)"}

	msgRequired = msg{"%s：不能为空", "%s: must be set"}
	msgTooLong  = msg{"%s：太长了（最多 %d 个字符）", "%s: too long (at most %d characters)"}
	msgBadText  = msg{"%s：含有无效字符", "%s: holds invalid characters"}
)

// checkText returns the message for a text field that is required and
// empty, longer than max characters, not UTF-8 or holding a NUL; nil when
// it is fine.
func checkText(field, s string, max int, required bool) (*msg, []any) {
	switch {
	case required && strings.TrimSpace(s) == "":
		return &msgRequired, []any{field}
	case !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0:
		return &msgBadText, []any{field}
	case utf8.RuneCountInString(s) > max:
		return &msgTooLong, []any{field, max}
	}
	return nil, nil
}
