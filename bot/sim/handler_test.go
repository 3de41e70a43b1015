package sim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/flows"
)

func TestThePageIsServedWithItsAssets(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	a := b.do(t, "GET", "/sim", "")
	require.Equal(t, http.StatusMovedPermanently, a.status)
	require.Equal(t, "/sim/", a.header.Get("Location"))

	a = b.do(t, "GET", "/sim/", "")
	require.Equal(t, http.StatusOK, a.status)
	require.Contains(t, a.header.Get("Content-Type"), "text/html")
	require.Contains(t, a.header.Get("Content-Security-Policy"), "script-src 'self'")
	require.Contains(t, a.raw, `src="static/app.js"`)

	for path, ctype := range map[string]string{"app.js": "javascript", "card.js": "javascript", "style.css": "text/css"} {
		a = b.do(t, "GET", "/sim/static/"+path, "")
		require.Equal(t, http.StatusOK, a.status, path)
		require.Contains(t, a.header.Get("Content-Type"), ctype, path)
	}
	require.Equal(t, http.StatusNotFound, b.do(t, "GET", "/sim/static/nope.js", "").status)
	a = b.do(t, "GET", "/sim/api/nope", "")
	require.Equal(t, http.StatusNotFound, a.status)
	require.Equal(t, "not_found", a.errCode())
}

func TestTheHandlerWorksOnAPlainServeMux(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{Path: "/tools/sim"})
	mux := http.NewServeMux()
	mux.Handle("/tools/sim/", p.Handler())
	ts := httptest.NewServer(mux)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/tools/sim/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// Without the page's dependencies the API says so.
	resp, err = http.Get(ts.URL + "/tools/sim/api/users")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestUsersListsThePeopleAndChatsWithUnreadCounts(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{Chats: []sim.Chat{{ID: "oc_ops", Name: "运营群"}}})
	_, err := b.sim.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)
	_, err = b.sim.Send(t.Context(), bot.Reader{ChatID: "oc_new", Name: "仓库群"}, card(1, bot.StatusAlert))
	require.NoError(t, err)

	a := b.do(t, "GET", "/sim/api/users", "")
	require.Equal(t, http.StatusOK, a.status, a.raw)
	users := a.body["users"].([]any)
	require.Len(t, users, len(b.org.Users))
	var qian map[string]any
	for _, u := range users {
		if u.(map[string]any)["id"] == "u_qian" {
			qian = u.(map[string]any)
		}
	}
	require.Equal(t, map[string]any{"id": "u_qian", "name": "钱多多", "department": "finance", "department_name": "财务部",
		"roles": []any{"finance"}, "sim_id": "qian", "unread": float64(1)}, qian)
	require.Equal(t, []any{
		map[string]any{"id": "oc_ops", "name": "运营群", "unread": float64(0)},
		map[string]any{"id": "oc_new", "name": "仓库群", "unread": float64(1)},
	}, a.body["chats"])

	a = b.do(t, "POST", "/sim/api/read", `{"user":"qian"}`)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	a = b.do(t, "GET", "/sim/api/users", "")
	for _, u := range a.body["users"].([]any) {
		require.Zero(t, u.(map[string]any)["unread"])
	}
}

func TestInboxShowsAPersonsOrAChatsMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{Chats: []sim.Chat{{ID: "oc_ops", Name: "运营群"}}})
	sent, err := b.sim.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)

	a := b.do(t, "GET", "/sim/api/inbox?user=qian", "")
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.Equal(t, "user:qian", a.body["inbox"])
	require.EqualValues(t, 200, a.body["limit"])
	msgs := a.body["messages"].([]any)
	require.Len(t, msgs, 1)
	m := msgs[0].(map[string]any)
	require.Equal(t, sent.MessageID, m["id"])
	require.Equal(t, "card", m["kind"])
	require.Equal(t, "订单履约 · TM-1001 · ¥6,800.00", m["card"].(map[string]any)["title"])

	a = b.do(t, "GET", "/sim/api/inbox?chat=oc_ops", "")
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.Equal(t, []any{}, a.body["messages"])
}

func TestBadInboxRequestsAreRefusedClearly(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	for _, tc := range []struct {
		name, path, lang string
		status           int
		code, message    string
	}{
		{"no one", "/sim/api/inbox", "", 400, "bad_request", "请指定 user（人）或 chat（群聊）之一"},
		{"both", "/sim/api/inbox?user=qian&chat=x", "", 400, "bad_request", "请指定"},
		{"unknown user", "/sim/api/inbox?user=nobody", "", 404, "unknown_user", "组织里没有模拟器账号为“nobody”的人"},
		{"unknown user in English", "/sim/api/inbox?user=nobody", "en-US,en", 404, "unknown_user", `nobody of the org has the sim id "nobody"`},
		{"an internal id is not a sim id", "/sim/api/inbox?user=u_qian", "", 404, "unknown_user", "u_qian"},
		{"unknown chat", "/sim/api/inbox?chat=oc_x", "", 404, "unknown_chat", "没有这个群聊：oc_x"},
		{"overlong user", "/sim/api/inbox?user=" + strings.Repeat("x", 201), "", 400, "invalid_input", "太长了"},
		{"wrong method", "/sim/api/inbox?user=qian", "", 405, "method_not_allowed", "POST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if tc.status == 405 {
				method = "POST"
			}
			a := b.do(t, method, tc.path, "", "Accept-Language", tc.lang)
			require.Equal(t, tc.status, a.status, a.raw)
			require.Equal(t, tc.code, a.errCode())
			require.Contains(t, a.errMessage(), tc.message)
		})
	}
}

func TestFlowsListsTheStartableFlowsWithTypedFields(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	a := b.do(t, "GET", "/sim/api/flows", "")
	require.Equal(t, http.StatusOK, a.status, a.raw)
	byID := map[string]map[string]any{}
	for _, f := range a.body["flows"].([]any) {
		byID[f.(map[string]any)["id"].(string)] = f.(map[string]any)
	}
	require.Contains(t, byID, "order_fulfilment")
	require.Contains(t, byID, "purchase_request")
	require.NotContains(t, byID, "oversell_alert", "alert flows are opened by their events")

	order := byID["order_fulfilment"]
	require.Equal(t, "订单履约", order["name"])
	fields := order["fields"].([]any)
	require.Equal(t, map[string]any{"key": "order_no", "label": "订单号", "type": "string", "required": true,
		"max_length": float64(64), "pattern": "[A-Z0-9-]+"}, fields[0])
	require.Equal(t, map[string]any{"key": "platform", "label": "平台", "type": "enum", "required": true,
		"options": []any{"tmall", "jd", "douyin", "pdd", "shopify"}}, fields[1])
	require.Equal(t, map[string]any{"key": "amount", "label": "订单金额", "type": "money", "required": true, "min": "0"}, fields[2])
	items := fields[5].(map[string]any)
	require.Equal(t, "table", items["type"])
	require.Equal(t, []any{
		map[string]any{"key": "sku", "label": "SKU", "type": "string", "required": true},
		map[string]any{"key": "qty", "label": "数量", "type": "number", "required": true, "min": "1"},
		map[string]any{"key": "price", "label": "单价", "type": "money", "required": true, "min": "0"},
	}, items["columns"])
}

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
