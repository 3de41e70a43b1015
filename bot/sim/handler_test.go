package sim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/sim"
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
		"options":       []any{"tmall", "jd", "douyin", "pdd", "shopify", "other"},
		"option_labels": map[string]any{"tmall": "天猫", "jd": "京东", "douyin": "抖音", "pdd": "拼多多", "shopify": "Shopify", "other": "其他渠道"}}, fields[1])
	require.Equal(t, map[string]any{"key": "amount", "label": "订单金额", "type": "money", "required": true, "min": "0"}, fields[2])
	items := fields[5].(map[string]any)
	require.Equal(t, "table", items["type"])
	require.Equal(t, []any{
		map[string]any{"key": "sku", "label": "SKU", "type": "string", "required": true},
		map[string]any{"key": "qty", "label": "数量", "type": "number", "required": true, "min": "1"},
		map[string]any{"key": "price", "label": "单价", "type": "money", "required": true, "min": "0"},
	}, items["columns"])

	// A page in English gets the flow's English names, where it has them.
	a = b.do(t, "GET", "/sim/api/flows", "", "Accept-Language", "en-US")
	require.Equal(t, http.StatusOK, a.status, a.raw)
	for _, f := range a.body["flows"].([]any) {
		if f := f.(map[string]any); f["id"] == "order_fulfilment" {
			require.Equal(t, "Order fulfilment", f["name"])
			fields := f["fields"].([]any)
			require.Equal(t, "Order no.", fields[0].(map[string]any)["label"])
			require.Equal(t, map[string]any{"tmall": "Tmall", "jd": "JD", "douyin": "Douyin", "pdd": "Pinduoduo", "shopify": "Shopify", "other": "Other"},
				fields[1].(map[string]any)["option_labels"])
		}
	}
}
