package feishu_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/feishu/feishutest"
)

// replies returns the replies to the message in, once the platform has
// sent all it will (Close waits for them).
func (b *bundle) replies(in string) []feishutest.Message {
	b.t.Helper()
	require.NoError(b.t, b.p.Close())
	var out []feishutest.Message
	for _, m := range b.fake.Messages() {
		if m.ReplyTo == in {
			out = append(out, m)
		}
	}
	return out
}

func TestMessagesToTheBot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		msg     feishutest.Msg
		replies int
		header  string
	}{
		{name: "direct", msg: feishutest.Msg{OpenID: "ou_qian0003", Text: "/todo"}, replies: 1, header: "订单履约 · TM-4001 · ¥6,800.00"},
		{name: "group with the bot mentioned", msg: feishutest.Msg{OpenID: "ou_qian0003", ChatID: "oc_ops",
			Mentions: []string{"ou_someone", feishutest.BotOpenID}, Text: "@_user_2 待办"}, replies: 1, header: "订单履约 · TM-4001 · ¥6,800.00"},
		{name: "group without the bot", msg: feishutest.Msg{OpenID: "ou_qian0003", ChatID: "oc_ops",
			Mentions: []string{"ou_someone"}, Text: "@_user_1 /todo"}},
		{name: "another bot", msg: feishutest.Msg{OpenID: "ou_otherbot", SenderType: "app", Text: "/todo"}},
		{name: "a picture", msg: feishutest.Msg{OpenID: "ou_qian0003", MessageType: "image", Text: "x"}},
		{name: "unknown user gets an answer", msg: feishutest.Msg{OpenID: "ou_nobody999", Text: "/todo"}, replies: 1, header: "你不在组织通讯录中"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.order("TM-4001")
			tt.msg.MessageID = "om_in_" + feishutest.NewEventID()[:8]
			ans, err := b.fake.FireMessage(t.Context(), b.srv.URL, tt.msg)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, ans.Status, string(ans.Body))
			got := b.replies(tt.msg.MessageID)
			require.Len(t, got, tt.replies)
			for _, r := range got {
				require.Equal(t, tt.header, feishutest.Header(r.Card))
			}
		})
	}
}

// TestAMessageDeliveredTwiceIsAnsweredOnce: Feishu may deliver a message
// again under a new event id; it is answered by message id.
func TestAMessageDeliveredTwiceIsAnsweredOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	msg := feishutest.Msg{MessageID: "om_in_twice", OpenID: "ou_qian0003", Text: "/todo"}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for range 2 {
		msg.EventID = feishutest.NewEventID()
		ans, err := b.fake.FireMessage(ctx, b.srv.URL, msg)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, ans.Status)
	}
	require.Len(t, b.replies("om_in_twice"), 1)
}

// TestBotAsksItsOpenIDOnce: the bot's own open_id, to tell an @ of itself
// in a group, is asked of Feishu once.
func TestBotAsksItsOpenIDOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for range 3 {
		msg := feishutest.Msg{MessageID: "om_in_" + feishutest.NewEventID()[:8], OpenID: "ou_qian0003", ChatID: "oc_ops",
			Mentions: []string{feishutest.BotOpenID}, Text: "@_user_1 /todo"}
		ans, err := b.fake.FireMessage(t.Context(), b.srv.URL, msg)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, ans.Status)
		ids = append(ids, msg.MessageID)
	}
	for _, id := range ids {
		require.Len(t, b.replies(id), 1)
	}
	require.Equal(t, 1, b.fake.Calls(feishutest.OpBotInfo))
}
