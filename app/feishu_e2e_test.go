package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/feishu"
	"cardflow/bot/feishu/feishutest"
	"cardflow/config"
)

// startFeishuChat is startChat with Feishu on, pointed at a fake Feishu,
// and the simulator off: every card goes to the fake, every click comes
// from it, signed and encrypted.
func startFeishuChat(t testing.TB, mode string) (*chatServer, *feishutest.Server) {
	t.Helper()
	fake := feishutest.New(t)
	c := startChatWith(t, nil, func(cfg *config.Config) {
		cfg.Sim.Enabled = false
		cfg.Feishu = config.FeishuConfig{Enabled: true, AppID: fake.Keys.AppID, AppSecret: config.Secret(fake.Keys.AppSecret),
			VerificationToken: config.Secret(fake.Keys.VerificationToken), EncryptKey: config.Secret(fake.Keys.EncryptKey),
			Mode: mode, BaseURL: fake.URL, Timeout: 5 * time.Second}
	})
	_, ok := c.ready.Platforms[feishu.Name].(*feishu.Platform)
	require.True(t, ok, "feishu is among the platforms: %v", c.ready.Platforms)
	return c, fake
}

// TestFeishuOrderEndToEnd: an order started through the API reaches the
// finance users as Feishu cards; 钱多多's click (a signed callback, or an
// event on the long connection) approves it; every finance copy is
// updated in place, and the sales director's card is sent.
func TestFeishuOrderEndToEnd(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{config.ModeWebhook, config.ModeStream} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			feishuOrder(t, mode)
		})
	}
}

func feishuOrder(t *testing.T, mode string) {
	c, fake := startFeishuChat(t, mode)
	var started struct {
		Instance struct {
			ID string `json:"id"`
		} `json:"instance"`
	}
	status := c.do(t, http.MethodPost, "/api/v1/instances", map[string]any{"flow_id": "order_fulfilment",
		"applicant": "u_chen", "form": order("TM-F6800", "6800.00")}, &started)
	require.Equal(t, http.StatusCreated, status)

	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	financeIDs := []string{"ou_qian0003", "ou_sun0004", "ou_zhao0002"}
	cards := map[string]feishutest.Message{}
	require.NoError(t, fake.Wait(ctx, func(ms []feishutest.Message) bool {
		for _, id := range financeIDs {
			for _, m := range ms {
				if m.ReceiveID == id && hasButton(m, "同意") {
					cards[id] = m
				}
			}
		}
		return len(cards) == len(financeIDs)
	}), "finance cards on the fake: %+v", fake.Messages())
	require.Equal(t, "订单履约 · TM-F6800 · ¥6,800.00", feishutest.Header(cards["ou_qian0003"].Card))

	value, err := feishutest.ButtonValue(cards["ou_qian0003"].Card, "同意")
	require.NoError(t, err)
	click := feishutest.Click{OpenID: "ou_qian0003", MessageID: cards["ou_qian0003"].ID, Value: value,
		FormValue: map[string]any{"comment": ""}}
	var ans feishutest.Answer
	if mode == config.ModeStream {
		require.NoError(t, fake.WaitConnected(ctx, 1))
		ans, err = fake.StreamClick(ctx, click)
	} else {
		ans, err = fake.FireClick(ctx, c.base+"/callbacks/feishu", click)
	}
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ans.Status, string(ans.Body))
	require.Equal(t, "success", ans.Toast.Type, ans.Toast.Content)
	require.NotEmpty(t, ans.Card)
	require.False(t, hasButton(feishutest.Message{Card: ans.Card}, "同意"), "the answer is the decided card")

	// Every other finance copy is PATCHed in place: no buttons left.
	require.NoError(t, fake.Wait(ctx, func([]feishutest.Message) bool {
		for _, id := range []string{"ou_sun0004", "ou_zhao0002"} {
			m, _ := fake.Message(cards[id].ID)
			if m.Updates() == 0 || hasButton(m, "同意") {
				return false
			}
		}
		return true
	}), "finance copies not updated: %+v", fake.Messages())

	// Over ¥5,000 the sales director approves next.
	require.NoError(t, fake.Wait(ctx, func(ms []feishutest.Message) bool {
		for _, m := range ms {
			if m.ReceiveID == "ou_zhou0005" && hasButton(m, "同意") {
				return true
			}
		}
		return false
	}), "no card for the director: %+v", fake.Messages())
	require.Len(t, fake.MessagesTo("ou_sun0004"), 1, "one card per reader and task, updated rather than resent")
}

func hasButton(m feishutest.Message, label string) bool {
	_, err := feishutest.ButtonValue(m.Card, label)
	return err == nil
}
