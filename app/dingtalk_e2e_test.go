package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/dingtalk"
	"cardflow/bot/dingtalk/dingtalktest"
	"cardflow/config"
)

// The DingTalk app of the end-to-end test, as the fake knows it.
const (
	dtClientID     = "dinge2eappkey"
	dtClientSecret = "dt-e2e-secret-0123456789abcdef"
	dtTemplate     = "cardflow-e2e.schema"
)

// startDingTalk starts the server on PostgreSQL and Redis with DingTalk on
// (stream mode, pointed at a fake) and the simulator off, and waits for
// the stream connection.
func startDingTalk(t *testing.T) (*chatServer, *dingtalktest.Server) {
	t.Helper()
	fake := dingtalktest.New(t, dingtalktest.Options{ClientID: dtClientID, ClientSecret: dtClientSecret,
		RobotCode: dtClientID, AckTimeout: 3 * time.Second})
	c := startChatWith(t, nil, func(cfg *config.Config) {
		cfg.Sim.Enabled = false
		cfg.DingTalk = config.DingTalkConfig{Enabled: true, ClientID: dtClientID, ClientSecret: dtClientSecret,
			RobotCode: dtClientID, CardTemplateID: dtTemplate, Mode: config.ModeStream, BaseURL: fake.URL, Timeout: 5 * time.Second}
	})
	_, ok := c.ready.Platforms[dingtalk.Name].(*dingtalk.Platform)
	require.True(t, ok, "dingtalk is among the platforms: %v", c.ready.Platforms)
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	require.NoError(t, fake.Wait(ctx, func() bool { return fake.Connections() >= 1 }), "the stream connection")
	return c, fake
}

// waitDT waits until the fake holds a 1:1 card for dtID for which ok
// holds, and returns it.
func waitDT(t *testing.T, fake *dingtalktest.Server, dtID string, ok func(dingtalktest.Card) bool) dingtalktest.Card {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	var found dingtalktest.Card
	err := fake.Wait(ctx, func() bool {
		for _, c := range fake.CardsFor(dtID) {
			if ok(c) {
				found = c
				return true
			}
		}
		return false
	})
	require.NoError(t, err, "%s never got the awaited card; cards: %+v", dtID, fake.CardsFor(dtID))
	return found
}

func titled(title string, buttons bool) func(dingtalktest.Card) bool {
	return func(c dingtalktest.Card) bool {
		return c.Params[dingtalk.ParamTitle] == title && (c.Params[dingtalk.ParamHasButtons] == "true") == buttons
	}
}

// TestDingTalkOrderEndToEnd walks the ¥6,800 order through DingTalk on
// PostgreSQL and Redis: started through the API, cards delivered to the
// three finance users on the fake, 钱多多's click through the stream, every
// copy updated in place, the director's card sent; the director's click
// is redelivered after a lost ack and acts once.
func TestDingTalkOrderEndToEnd(t *testing.T) {
	t.Parallel()
	c, fake := startDingTalk(t)
	var started struct {
		Instance struct {
			ID string `json:"id"`
		} `json:"instance"`
	}
	status := c.do(t, http.MethodPost, "/api/v1/instances", map[string]any{"flow_id": "order_fulfilment",
		"applicant": "u_chen", "form": order("TM-DT1", "6800.00")}, &started)
	require.Equal(t, http.StatusCreated, status)
	inst := started.Instance.ID
	const title = "订单履约 · TM-DT1 · ¥6,800.00"

	// 钱多多 0202, 赵敏 0201, 孙会计 0203: one 或签 card each.
	cards := map[string]dingtalktest.Card{}
	for _, u := range []string{"0202", "0201", "0203"} {
		cards[u] = waitDT(t, fake, u, titled(title, true))
		require.Equal(t, dtTemplate, cards[u].TemplateID)
		require.Equal(t, "pending", cards[u].Params[dingtalk.ParamStatus])
	}

	ans, err := fake.ClickButton(t.Context(), cards["0202"].OutTrackID, "0202", "同意", nil)
	require.NoError(t, err)
	require.Equal(t, 200, ans.Ack.Code, ans.Ack.Message)
	require.Equal(t, "success", ans.Response.UserPrivateData.CardParamMap[dingtalk.ParamToastKind])
	require.True(t, strings.HasPrefix(ans.Response.CardData.CardParamMap[dingtalk.ParamStatusLine], "已同意 · 钱多多"))

	// Every copy is updated in place by the pipeline.
	for _, u := range []string{"0201", "0203"} {
		m := waitDT(t, fake, u, func(x dingtalktest.Card) bool {
			return x.OutTrackID == cards[u].OutTrackID && x.Updates > 0 && x.Params[dingtalk.ParamHasButtons] == "false"
		})
		require.Equal(t, "approved", m.Params[dingtalk.ParamStatus])
		require.True(t, strings.HasPrefix(m.Params[dingtalk.ParamStatusLine], "已由 钱多多 同意 · "), m.Params[dingtalk.ParamStatusLine])
	}
	own, _ := fake.Card(cards["0202"].OutTrackID)
	require.Equal(t, "false", own.Params[dingtalk.ParamHasButtons])

	// Over ¥5,000: 周总监 (0301) approves next. His ack is lost once: the
	// redelivery is answered alike and the instance moves on once.
	director := waitDT(t, fake, "0301", titled(title, true))
	fake.DropAcks(1)
	ans, err = fake.ClickButton(t.Context(), director.OutTrackID, "0301", "同意", nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, fake.Deliveries(ans.MessageID), 2, "the frame was redelivered")
	require.Equal(t, "success", ans.Response.UserPrivateData.CardParamMap[dingtalk.ParamToastKind])
	var view struct {
		Instance struct {
			Audit []struct {
				Actor  string `json:"actor"`
				Action string `json:"action"`
			} `json:"audit"`
		} `json:"instance"`
	}
	require.Equal(t, http.StatusOK, c.do(t, http.MethodGet, "/api/v1/instances/"+inst+"?viewer=u_chen", nil, &view))
	approvals := 0
	for _, a := range view.Instance.Audit {
		if a.Actor == "u_zhou" && a.Action == "approve" {
			approvals++
		}
	}
	require.Equal(t, 1, approvals, "the director's approval is recorded once: %+v", view.Instance.Audit)
	// The warehouse is next: 郑仓管 (0401) gets the pack card.
	waitDT(t, fake, "0401", func(x dingtalktest.Card) bool {
		return strings.Contains(x.Params[dingtalk.ParamTitle], "TM-DT1") && x.Params[dingtalk.ParamHasButtons] == "true"
	})

	// He asks the robot for his to-do list: the answer is a card in his
	// chat with the robot, listing the order.
	before := len(fake.CardsFor("0401"))
	ack, err := fake.SendMessage(t.Context(), dingtalktest.Message{UserID: "0401", Text: "/todo"})
	require.NoError(t, err)
	require.Equal(t, 200, ack.Code, ack.Message)
	todo := waitDT(t, fake, "0401", func(x dingtalktest.Card) bool {
		return len(fake.CardsFor("0401")) > before && x.OutTrackID == fake.CardsFor("0401")[before].OutTrackID
	})
	require.Contains(t, todo.Params[dingtalk.ParamMarkdown]+todo.Params[dingtalk.ParamTitle], "TM-DT1")
}
