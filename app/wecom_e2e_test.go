package app_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/wecom"
	"cardflow/bot/wecom/wecomtest"
	"cardflow/config"
	"cardflow/flows"
)

// weComServer is app.Run on PostgreSQL and Redis with WeCom on, pointed at
// the fake, and the simulator off.
type weComServer struct {
	*chatServer
	fake *wecomtest.Server
	// callback is the server's /callbacks/wecom.
	callback string
	// watch sees the pipeline finish a delivery: a card is recorded (with
	// the code its send brought) only after the fake has it.
	watch *logWatch
}

func startWeCom(t *testing.T) *weComServer {
	t.Helper()
	fake := wecomtest.New(t)
	watch := newLogWatch()
	c := startChatWith(t, watch, func(cfg *config.Config) {
		cfg.Sim.Enabled = false
		cfg.WeCom = config.WeComConfig{Enabled: true, CorpID: wecomtest.CorpID, AgentID: wecomtest.AgentID,
			Secret: wecomtest.Secret, Token: wecomtest.Token, EncodingAESKey: wecomtest.EncodingAESKey,
			BaseURL: fake.URL, Timeout: 5 * time.Second}
	})
	_, ok := c.ready.Platforms[wecom.Name].(*wecom.Platform)
	require.True(t, ok, "wecom is among the platforms: %v", c.ready.Platforms)
	return &weComServer{chatServer: c, fake: fake, callback: c.base + "/callbacks/wecom", watch: watch}
}

// startOrderAPI starts an order for 陈客服主管 through the API and returns
// the instance id.
func (c *weComServer) startOrderAPI(t *testing.T, no, amount string) string {
	t.Helper()
	var out started
	status := c.do(t, http.MethodPost, "/api/v1/instances",
		map[string]any{"flow_id": "order_fulfilment", "applicant": "u_chen", "form": order(no, amount)}, &out)
	require.Equal(t, http.StatusCreated, status)
	require.Len(t, out.Instance.Tasks, 3, "one 或签 task per finance user")
	return out.Instance.ID
}

// version is the instance's version as the API shows it.
func (c *weComServer) version(t *testing.T, id string) int64 {
	t.Helper()
	var out struct {
		Instance struct {
			Version int64 `json:"version"`
		} `json:"instance"`
	}
	require.Equal(t, http.StatusOK, c.do(t, http.MethodGet, "/api/v1/instances/"+id+"?viewer=u_chen", nil, &out))
	return out.Instance.Version
}

// waitMessage waits for a card message to user for which ok holds.
func (c *weComServer) waitMessage(t *testing.T, user string, ok func(wecomtest.Message) bool) wecomtest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	m, err := c.fake.WaitMessage(ctx, func(m wecomtest.Message) bool { return m.User == user && ok(m) })
	require.NoError(t, err, "%s never got the awaited card; the fake has %+v", user, c.fake.Messages())
	return m
}

// keyOf returns the key of the card's button for action.
func keyOf(t *testing.T, card wecom.TemplateCard, action flows.ActionKind) string {
	t.Helper()
	for _, b := range card.ButtonList {
		if a, _, _, err := wecom.ParseButtonKey(b.Key); err == nil && a == action {
			return b.Key
		}
	}
	t.Fatalf("no %s button on %+v", action, card)
	return ""
}

// hasButtons holds for a card with buttons that act on the flow (not just
// "my to-dos").
func hasButtons(m wecomtest.Message) bool {
	for _, b := range m.Card.ButtonList {
		if _, _, _, err := wecom.ParseButtonKey(b.Key); err == nil {
			return true
		}
	}
	return false
}

// TestWeComOrderEndToEnd walks the ¥6,800 order through WeCom on
// PostgreSQL and Redis: cards to the three finance users on the fake, a
// signed click by 钱多多, every copy updated in place with its
// response_code, the director's card sent; then the refusals a click can
// meet, answered through the handler with the engine's words.
func TestWeComOrderEndToEnd(t *testing.T) {
	t.Parallel()
	c := startWeCom(t)
	status, echo, err := c.fake.CheckURL(t.Context(), c.callback, "echo-6800")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "echo-6800", echo)

	inst := c.startOrderAPI(t, "TM-6800", "6800.00")
	cards := map[string]wecomtest.Message{}
	for _, u := range []string{"QianDuoduo", "SunKuaiji", "ZhaoMin"} {
		cards[u] = c.waitMessage(t, u, hasButtons)
		require.Equal(t, "订单履约 · TM-6800 · ¥6,800.00", cards[u].Card.MainTitle.Title)
		require.Contains(t, cards[u].Card.SubTitleText, "「拒绝」", "the reject button needs a reason: named, not offered")
	}

	// The cards are recorded once their deliveries end: a click sooner
	// than that (no person is that quick) would find no card to keep its
	// code on.
	var keys []string
	for _, row := range c.outboxOf(t, inst) {
		keys = append(keys, row.key)
	}
	c.watch.await(t, logHandled, keys...)

	// 钱多多 approves: an empty answer, the instance moves on.
	before := c.version(t, inst)
	click := c.fake.Click("QianDuoduo", cards["QianDuoduo"].TaskID, keyOf(t, cards["QianDuoduo"].Card, flows.ActApprove))
	plain, err := xml.Marshal(click)
	require.NoError(t, err)
	sealed := c.fake.Seal(plain)
	reply, err := c.fake.Post(t.Context(), c.callback, sealed)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reply.Status)
	require.Empty(t, reply.Body, "a click that went through: the card is updated instead")
	after := c.version(t, inst)
	require.Greater(t, after, before)

	// Every copy is updated in place, hers with the code her click brought.
	mine := c.waitMessage(t, "QianDuoduo", func(m wecomtest.Message) bool {
		return m.TaskID == cards["QianDuoduo"].TaskID && len(m.Updates) > 0
	})
	require.False(t, hasButtons(mine))
	require.Contains(t, mine.Card.SubTitleText, "已同意 · 钱多多")
	require.True(t, c.fake.Spent(click.ResponseCode), "her card was updated with the code her click brought")
	require.Equal(t, 1, c.fake.OpenCodes(mine.TaskID), "the send's code is left")
	for _, u := range []string{"SunKuaiji", "ZhaoMin"} {
		m := c.waitMessage(t, u, func(m wecomtest.Message) bool { return m.TaskID == cards[u].TaskID && len(m.Updates) > 0 })
		require.False(t, hasButtons(m), u)
		require.Contains(t, m.Card.SubTitleText, "已由 钱多多 同意", u)
	}
	// Over ¥5,000: the sales director's card comes next.
	director := c.waitMessage(t, "ZhouZongjian", hasButtons)
	require.Contains(t, director.Card.MainTitle.Desc+director.Card.SubTitleText, "销售总监审批")

	// WeCom retries her callback: the same answer, nothing changes.
	again, err := c.fake.Post(t.Context(), c.callback, sealed)
	require.NoError(t, err)
	require.Equal(t, reply.Status, again.Status)
	require.Equal(t, reply.Body, again.Body)
	require.Equal(t, after, c.version(t, inst), "a replayed click changes nothing")

	// A second order: its finance card's button, clicked on the director's
	// message, points at another instance's task.
	second := c.startOrderAPI(t, "TM-7000", "7000.00")
	other := c.waitMessage(t, "ZhaoMin", func(m wecomtest.Message) bool {
		return hasButtons(m) && strings.Contains(m.Card.MainTitle.Title, "TM-7000")
	})
	for _, tc := range []struct {
		name, user, taskID, key, want string
	}{
		{name: "not the assignee", user: "SunKuaiji", taskID: director.TaskID,
			key: keyOf(t, director.Card, flows.ActApprove), want: "不是"},
		{name: "an older version of a decided task", user: "SunKuaiji", taskID: cards["SunKuaiji"].TaskID,
			key: keyOf(t, cards["SunKuaiji"].Card, flows.ActApprove), want: "已由 钱多多 于 "},
		{name: "another instance's task", user: "ZhouZongjian", taskID: director.TaskID,
			key: keyOf(t, other.Card, flows.ActApprove), want: "不是"},
		{name: "another's task of this instance", user: "ZhouZongjian", taskID: director.TaskID,
			key: keyOf(t, cards["ZhaoMin"].Card, flows.ActApprove), want: "不是"},
		{name: "a user unknown to the org", user: "Stranger", taskID: director.TaskID,
			key: keyOf(t, director.Card, flows.ActApprove), want: "你不在组织通讯录中"},
	} {
		told := len(c.fake.Texts(tc.user))
		r, err := c.fake.FireClick(t.Context(), c.callback, tc.user, tc.taskID, tc.key)
		require.NoError(t, err, tc.name)
		require.Equal(t, http.StatusOK, r.Status, tc.name)
		require.Equal(t, after, c.version(t, inst), "%s: nothing changes", tc.name)
		ctx, cancel := context.WithTimeout(t.Context(), patience)
		require.NoError(t, c.fake.Wait(ctx, func() bool { return len(c.fake.Texts(tc.user)) > told }),
			"%s: the clicker is told why", tc.name)
		cancel()
		got := c.fake.Texts(tc.user)[told]
		t.Logf("%s: %q", tc.name, got)
		require.Contains(t, got, tc.want, tc.name)
	}
	require.Equal(t, int64(1), c.version(t, second), "the other order is untouched")

	// 周总监 asks for his to-do list in the app chat: his task comes back as
	// a new card with its buttons.
	r, err := c.fake.Fire(t.Context(), c.callback, c.fake.Text("ZhouZongjian", "待办", "msg-todo-1"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	todo := c.waitMessage(t, "ZhouZongjian", func(m wecomtest.Message) bool {
		return m.TaskID != director.TaskID && hasButtons(m) && m.Card.MainTitle.Title == director.Card.MainTitle.Title
	})
	require.Equal(t, keyOf(t, director.Card, flows.ActApprove), keyOf(t, todo.Card, flows.ActApprove))
	require.Zero(t, c.fake.RefusedCodes(), "no update ever came with a spent or unknown code")
}
