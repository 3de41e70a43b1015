package sim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/flows"
)

const orderForm = `{"order_no":"TM-1001","platform":"tmall","amount":"6800.00",
	"items":[{"sku":"SKU-1","qty":"2","price":"3400.00"}]}`

func TestStartRunsTheEngineAsThePickedPerson(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	a := b.do(t, "POST", "/sim/api/start", `{"user":"chen","flow_id":"order_fulfilment","form":`+orderForm+`}`)
	require.Equal(t, http.StatusCreated, a.status, a.raw)
	res := a.body["result"].(map[string]any)
	require.Equal(t, "start", res["op"])
	require.Equal(t, "running", res["status"])

	view, err := b.engine.Instance(t.Context(), "u_chen", res["instance_id"].(string))
	require.NoError(t, err)
	require.Equal(t, "u_chen", view.Instance.Applicant, "the sim id maps to the org user")
	require.Equal(t, "订单履约 · TM-1001", view.Instance.Title)

	// Each start is a new request: the same form twice is two orders.
	a = b.do(t, "POST", "/sim/api/start", `{"user":"chen","flow_id":"order_fulfilment","form":`+orderForm+`}`)
	require.Equal(t, http.StatusCreated, a.status, a.raw)
	require.NotEqual(t, res["instance_id"], a.body["result"].(map[string]any)["instance_id"])
}

func TestStartAnswersABadFormWithEveryBadField(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	a := b.do(t, "POST", "/sim/api/start", `{"user":"chen","flow_id":"order_fulfilment",
		"form":{"order_no":"TM-1","platform":"ebay","amount":"12.345","items":[{"sku":"","qty":"0","price":"1"}]}}`)
	require.Equal(t, http.StatusUnprocessableEntity, a.status, a.raw)
	require.Equal(t, "invalid_form", a.errCode())
	require.Equal(t, "表单有 4 处需要修改", a.errMessage())
	got := map[string]string{}
	for _, f := range a.body["error"].(map[string]any)["fields"].([]any) {
		p := f.(map[string]any)
		got[p["field"].(string)] = p["code"].(string)
	}
	require.Equal(t, map[string]string{"platform": "option", "amount": "precision", "items[0].sku": "required", "items[0].qty": "min"}, got)

	a = b.do(t, "POST", "/sim/api/start", `{"user":"chen","flow_id":"order_fulfilment"}`, "Accept-Language", "en")
	require.Equal(t, http.StatusUnprocessableEntity, a.status, a.raw)
	require.Contains(t, a.errMessage(), "fields of the form need fixing")
}

func TestBadStartRequestsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{MaxBody: 2048})
	for _, tc := range []struct {
		name, body  string
		contentType string
		status      int
		code        string
	}{
		{"unknown flow", `{"user":"chen","flow_id":"nope","form":{}}`, "", 404, "unknown_flow"},
		{"alert flow", `{"user":"chen","flow_id":"oversell_alert","form":{}}`, "", 409, "not_startable"},
		{"unknown user", `{"user":"ghost","flow_id":"order_fulfilment","form":` + orderForm + `}`, "", 404, "unknown_user"},
		{"no flow", `{"user":"chen","form":{}}`, "", 400, "invalid_input"},
		{"no user", `{"flow_id":"order_fulfilment"}`, "", 400, "invalid_input"},
		{"unknown key", `{"user":"chen","flow_id":"order_fulfilment","applicant":"u_wang"}`, "", 400, "bad_request"},
		{"not JSON", `{"user":`, "", 400, "bad_request"},
		{"two objects", `{} {}`, "", 400, "bad_request"},
		{"form not an object", `{"user":"chen","flow_id":"order_fulfilment","form":[1]}`, "", 400, "bad_request"},
		{"not JSON content", `user=chen`, "application/x-www-form-urlencoded", 415, "bad_request"},
		{"too large", `{"user":"chen","flow_id":"order_fulfilment","title":"` + strings.Repeat("长", 1000) + `"}`, "", 413, "body_too_large"},
		{"NUL in the flow id", `{"user":"chen","flow_id":"order\u0000","form":{}}`, "", 400, "invalid_input"},
		{"NUL in a form field", `{"user":"chen","flow_id":"order_fulfilment","form":{"order_no":"A\u0000"}}`, "", 400, "invalid_input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.contentType != "" {
				headers = []string{"Content-Type", tc.contentType}
			}
			a := b.do(t, "POST", "/sim/api/start", tc.body, headers...)
			require.Equal(t, tc.status, a.status, a.raw)
			require.Equal(t, tc.code, a.errCode(), a.raw)
			require.NotEmpty(t, a.errMessage())
			require.NotContains(t, a.errMessage(), "flows:", "no package names in what people read")
			if tc.name == "NUL in a form field" {
				require.Equal(t, "order_no：输入的内容无法保存（过长或含有无效字符）", a.errMessage())
			}
		})
	}
}

func TestClickHandsTheClickToInboundAndShowsTheAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	sent, err := b.sim.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)
	decided := card(2, bot.StatusApproved)
	decided.Buttons, decided.StatusLine = nil, "已同意 · 钱多多 · 10:42"
	b.inbound.onClick = func(bot.Click) (bot.ClickReply, error) {
		return bot.ClickReply{Card: &decided, Toast: bot.Toast{Kind: bot.ToastSuccess, Text: "已同意"}}, nil
	}

	body := fmt.Sprintf(`{"user":"qian","message_id":%q,"payload":"t:inst1.t0001:1","action":"reject","values":{"comment":"价格不对"}}`, sent.MessageID)
	a := b.do(t, "POST", "/sim/api/click", body)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.Equal(t, map[string]any{"kind": "success", "text": "已同意"}, a.body["reply"].(map[string]any)["toast"])
	require.Equal(t, "已同意 · 钱多多 · 10:42", a.body["message"].(map[string]any)["card"].(map[string]any)["status_line"])

	c := b.inbound.lastClick()
	require.Equal(t, "sim", c.Platform)
	require.Equal(t, "qian", c.PlatformUserID, "the picked person is the signed user")
	require.Equal(t, "t:inst1.t0001:1", c.Payload)
	require.Equal(t, flows.ActReject, c.Action)
	require.Equal(t, map[string]string{"comment": "价格不对"}, c.Values)
	require.NotEmpty(t, c.EventID)

	require.Equal(t, decided, *b.sim.Messages(reader("qian"))[0].Card, "the answer replaces the clicked card")

	a = b.do(t, "POST", "/sim/api/click", body)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.NotEqual(t, c.EventID, b.inbound.lastClick().EventID, "each click is a new event")
}

func TestAClickAnswerNeverReplacesALaterStateOrAnotherPersonsCard(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	sent, err := b.sim.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)
	_, err = b.sim.Update(t.Context(), reader("qian"), bot.CardMessage{MessageID: sent.MessageID}, card(3, bot.StatusDone))
	require.NoError(t, err)
	stale := card(2, bot.StatusApproved)
	b.inbound.onClick = func(bot.Click) (bot.ClickReply, error) { return bot.ClickReply{Card: &stale}, nil }

	body := fmt.Sprintf(`{"user":"qian","message_id":%q,"payload":"t:inst1.t0001:1","action":"approve"}`, sent.MessageID)
	a := b.do(t, "POST", "/sim/api/click", body)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.Nil(t, a.body["message"])
	require.Equal(t, bot.StatusDone, b.sim.Messages(reader("qian"))[0].Card.Status)

	stale.Version = 9
	body = fmt.Sprintf(`{"user":"sun","message_id":%q,"payload":"t:inst1.t0001:1","action":"approve"}`, sent.MessageID)
	a = b.do(t, "POST", "/sim/api/click", body)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.Equal(t, bot.StatusDone, b.sim.Messages(reader("qian"))[0].Card.Status, "sun's click does not touch qian's card")
}

func TestBadClicksAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"unknown user", `{"user":"ghost","payload":"t:x.t0001:1","action":"approve"}`, 404, "unknown_user"},
		{"bad payload", `{"user":"qian","payload":"approve everything","action":"approve"}`, 400, "invalid_input"},
		{"unknown action", `{"user":"qian","payload":"t:x.t0001:1","action":"steal"}`, 400, "unknown_action"},
		{"no action", `{"user":"qian","payload":"t:x.t0001:1"}`, 400, "unknown_action"},
		{"values not text", `{"user":"qian","payload":"t:x.t0001:1","action":"approve","values":{"n":1}}`, 400, "bad_request"},
		{"overlong value", `{"user":"qian","payload":"t:x.t0001:1","action":"reject","values":{"comment":"` + strings.Repeat("x", 5001) + `"}}`, 400, "invalid_input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.do(t, "POST", "/sim/api/click", tc.body)
			require.Equal(t, tc.status, a.status, a.raw)
			require.Equal(t, tc.code, a.errCode())
		})
	}
	require.Empty(t, b.inbound.clicks, "no bad click reached Inbound")
}

func TestClickErrorsOfInbound(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	const body = `{"user":"zheng","payload":"t:x.t0003:4","action":"complete","values":{"carrier":"ups"}}`
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"bad result form", &flows.FormError{Problems: []flows.FieldProblem{
			{Field: "tracking_no", Code: flows.CodeRequired, Message: "required"},
			{Field: "carrier", Code: flows.CodeOption, Message: "must be one of sf, jd"}}}, 422, "invalid_form"},
		{"store down", fmt.Errorf("load: %w", flows.ErrUnavailable), 503, "unavailable"},
		{"input refused with no field named", fmt.Errorf("bot: click: %w", bot.ErrInvalid), 400, "invalid_input"},
		{"a bug", errors.New("secret detail of a bug"), 500, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.inbound.mu.Lock()
			b.inbound.onClick = func(bot.Click) (bot.ClickReply, error) { return bot.ClickReply{}, tc.err }
			b.inbound.mu.Unlock()
			a := b.do(t, "POST", "/sim/api/click", body)
			require.Equal(t, tc.status, a.status, a.raw)
			require.Equal(t, tc.code, a.errCode())
			require.NotContains(t, a.raw, "secret detail")
			if tc.code == "invalid_form" {
				require.Len(t, a.body["error"].(map[string]any)["fields"], 2)
			}
			if tc.code == "invalid_input" {
				require.Equal(t, "输入的内容无法保存（过长或含有无效字符）", a.errMessage(), "no field to name, no placeholder for one")
			}
		})
	}
}

func TestMessageShowsWhatWasSaidAndTheBotsAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{Chats: []sim.Chat{{ID: "oc_ops", Name: "运营群"}}})
	a := b.do(t, "POST", "/sim/api/message", `{"user":"chen","text":"待办"}`)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.Equal(t, "user:chen", a.body["inbox"])
	said := a.body["said"].(map[string]any)
	require.Equal(t, map[string]any{"kind": "text", "text": "待办", "from": "chen"},
		map[string]any{"kind": said["kind"], "text": said["text"], "from": said["from"]})
	replies := a.body["replies"].([]any)
	require.Len(t, replies, 1)
	require.Equal(t, "reply", replies[0].(map[string]any)["kind"])

	m := b.inbound.messages[0]
	require.Equal(t, bot.Message{Platform: "sim", EventID: m.EventID, PlatformUserID: "chen", Text: "待办"}, m)
	require.NotEmpty(t, m.EventID)
	msgs := b.sim.Messages(reader("chen"))
	require.Len(t, msgs, 2)
	require.Equal(t, sim.KindText, msgs[0].Kind)
	require.Equal(t, "帮助", msgs[1].Card.Title)

	a = b.do(t, "POST", "/sim/api/message", `{"user":"chen","chat":"oc_ops","text":"/help"}`)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.Equal(t, "chat:oc_ops", a.body["inbox"])
	require.Equal(t, "oc_ops", b.inbound.messages[1].ChatID)
	require.Len(t, b.sim.Messages(bot.Reader{ChatID: "oc_ops"}), 2)
}

func TestBadMessagesAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty", `{"user":"chen","text":"  "}`, 400, "invalid_input"},
		{"too long", `{"user":"chen","text":"` + strings.Repeat("长", 2001) + `"}`, 400, "invalid_input"},
		{"invalid UTF-8", "{\"user\":\"chen\",\"text\":\"\\ud800\"}", 200, ""}, // JSON turns a lone surrogate into U+FFFD
		{"unknown user", `{"user":"ghost","text":"/todo"}`, 404, "unknown_user"},
		{"unknown chat", `{"user":"chen","chat":"oc_x","text":"/todo"}`, 404, "unknown_chat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.do(t, "POST", "/sim/api/message", tc.body)
			require.Equal(t, tc.status, a.status, a.raw)
			require.Equal(t, tc.code, a.errCode())
		})
	}
	b.inbound.onMsg = func(bot.Message) ([]bot.Card, error) { return nil, context.DeadlineExceeded }
	a := b.do(t, "POST", "/sim/api/message", `{"user":"chen","text":"/todo"}`)
	require.Equal(t, http.StatusInternalServerError, a.status, a.raw)
	require.Equal(t, "出错了，请稍后再试（详情见服务器日志）", a.errMessage())
}

// TestClickAndMessageErrorsSpeakThePersonsLanguage: what goes wrong with a
// click or a message is said in the language of the person acting, as
// their chat app would say it, whatever the page's language.
func TestClickAndMessageErrorsSpeakThePersonsLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	badClick := func(user string) string { return `{"user":"` + user + `","payload":"garbage","action":"approve"}` }
	long := `"` + strings.Repeat("长", 5000) + `"`

	a := b.do(t, "POST", "/sim/api/click", badClick("shen"))
	require.Equal(t, http.StatusBadRequest, a.status, a.raw)
	require.Equal(t, "the button's payload is invalid", a.errMessage(), "沈 reads English on a Chinese page")
	a = b.do(t, "POST", "/sim/api/message", `{"user":"shen","text":`+long+`}`)
	require.Equal(t, http.StatusBadRequest, a.status, a.raw)
	require.Contains(t, a.errMessage(), "too long")

	a = b.do(t, "POST", "/sim/api/click", badClick("chen"), "Accept-Language", "en")
	require.Equal(t, http.StatusBadRequest, a.status, a.raw)
	require.Equal(t, "按钮数据无效", a.errMessage(), "陈 reads Chinese on an English page")

	a = b.do(t, "POST", "/sim/api/click", badClick("ghost"), "Accept-Language", "en")
	require.Equal(t, http.StatusNotFound, a.status, a.raw)
	require.Contains(t, a.errMessage(), "nobody of the org", "nobody to speak for: the page's language")
}

// TestStartRefusesAFormBreakingItsFlowsRule: a campaign may not end before
// it starts; the answer names the field and says so in the rule's words.
func TestStartRefusesAFormBreakingItsFlowsRule(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	form := `{"campaign":"双12","platform":"tmall","starts_on":"2026-12-12","ends_on":"2026-12-10","budget":"5000.00",
		"plan":"https://example.com/plan.pdf"}`
	a := b.do(t, "POST", "/sim/api/start", `{"user":"chu","flow_id":"campaign_launch","form":`+form+`}`)
	require.Equal(t, http.StatusUnprocessableEntity, a.status, a.raw)
	fields := a.body["error"].(map[string]any)["fields"].([]any)
	require.Len(t, fields, 1)
	p := fields[0].(map[string]any)
	require.Equal(t, "ends_on", p["field"])
	require.Equal(t, "rule", p["code"])
	require.Equal(t, "结束日期不能早于开始日期", p["says"])
	require.Equal(t, "The campaign cannot end before it starts", p["says_en"])
}
