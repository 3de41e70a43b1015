package dingtalk_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/dingtalk"
	"cardflow/bot/dingtalk/dingtalktest"
	"cardflow/config"
	"cardflow/flows"
)

// TestClickThroughTheStream: 钱多多 (0202) approves her card on the
// stream; the answer changes her card at once and shows her a toast.
func TestClickThroughTheStream(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.run(t)
	require.ElementsMatch(t, []string{"CALLBACK " + dingtalk.TopicBotMessage, "CALLBACK " + dingtalk.TopicCardCallback},
		w.fake.Subscriptions())
	_, tasks := w.start(t, "TM-1")
	task := w.taskOf(t, tasks, "u_qian")
	id := w.sendTask(t, "u_qian", "0202", task)

	ans, err := w.fake.ClickButton(t.Context(), id, "0202", "同意", nil)
	require.NoError(t, err)
	require.Equal(t, 200, ans.Ack.Code)
	require.NotNil(t, ans.Response)
	require.Equal(t, string(bot.ToastSuccess), ans.Response.UserPrivateData.CardParamMap[dingtalk.ParamToastKind])
	require.NotNil(t, ans.Response.CardData)
	got, _ := w.fake.Card(id)
	require.Equal(t, "false", got.Params[dingtalk.ParamHasButtons], "the clicked card has no buttons left")
	require.True(t, strings.HasPrefix(got.Params[dingtalk.ParamStatusLine], "已同意 · 钱多多"), got.Params[dingtalk.ParamStatusLine])
	require.Equal(t, 1, got.Answers)
	require.Equal(t, flows.TaskApproved, w.taskStatus(t, task))
	require.Equal(t, 1, w.fake.Deliveries(ans.MessageID))
}

// TestRejectCarriesTheComment: the card's input comes back in the params,
// as long as the engine takes it.
func TestRejectCarriesTheComment(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.run(t)
	inst, tasks := w.start(t, "TM-2")
	task := w.taskOf(t, tasks, "u_qian")
	id := w.sendTask(t, "u_qian", "0202", task)
	// As long as the engine takes, in Chinese: three bytes a character.
	comment := "金额不对" + strings.Repeat("。", flows.MaxCommentLength-4)
	ans, err := w.fake.ClickButton(t.Context(), id, "0202", "拒绝", map[string]string{bot.InputComment: comment})
	require.NoError(t, err)
	require.Equal(t, string(bot.ToastSuccess), ans.Response.UserPrivateData.CardParamMap[dingtalk.ParamToastKind],
		ans.Response.UserPrivateData.CardParamMap[dingtalk.ParamToast])
	require.Equal(t, flows.TaskRejected, w.taskStatus(t, task))
	audit, err := w.store.Audit(t.Context(), inst)
	require.NoError(t, err)
	require.Contains(t, mustJSON(t, audit), "金额不对")
	got, err := w.store.Task(t.Context(), task)
	require.NoError(t, err)
	require.Equal(t, comment, got.Comment)
}

// TestDroppedConnectionLosesNothing: the gateway drops the connection; the
// platform reconnects and the click pushed meanwhile is answered.
func TestDroppedConnectionLosesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.run(t)
	_, tasks := w.start(t, "TM-3")
	task := w.taskOf(t, tasks, "u_qian")
	id := w.sendTask(t, "u_qian", "0202", task)

	w.fake.Drop()
	ans, err := w.fake.ClickButton(t.Context(), id, "0202", "同意", nil)
	require.NoError(t, err)
	require.Equal(t, 200, ans.Ack.Code)
	require.GreaterOrEqual(t, w.fake.Connections(), 2, "reconnected")
	require.Equal(t, flows.TaskApproved, w.taskStatus(t, task))

	// DingTalk's own request to reconnect is obeyed too.
	before := w.fake.Connections()
	require.NoError(t, w.fake.Disconnect())
	w.waitFor(t, "a new connection", func() bool { return w.fake.Connections() > before })
}

// TestLateAckRedeliveryAnsweredOnce: the first ack is lost; the
// redelivered frame gets the very same answer, and the task changed once.
func TestLateAckRedeliveryAnsweredOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.run(t)
	inst, tasks := w.start(t, "TM-4")
	task := w.taskOf(t, tasks, "u_qian")
	id := w.sendTask(t, "u_qian", "0202", task)
	w.fake.DropAcks(1)
	ans, err := w.fake.ClickButton(t.Context(), id, "0202", "同意", nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, w.fake.Deliveries(ans.MessageID), 2, "the frame was redelivered")
	require.Equal(t, string(bot.ToastSuccess), ans.Response.UserPrivateData.CardParamMap[dingtalk.ParamToastKind],
		"the redelivery is answered as the first delivery was, not as a second click")
	audit, err := w.store.Audit(t.Context(), inst)
	require.NoError(t, err)
	approvals := 0
	for _, e := range audit {
		if e.Action == "approve" {
			approvals++
		}
	}
	require.Equal(t, 1, approvals, "one decision in the audit trail: %s", mustJSON(t, audit))
	require.Contains(t, w.log.String(), "redelivered click answered as before")
}

// TestMessageAnsweredWithCards: /todo to the robot brings a card back to
// the sender; a redelivered message is not answered twice.
func TestMessageAnsweredWithCards(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.run(t)
	w.start(t, "TM-5")
	m := dingtalktest.Message{MsgID: "msgTodo1", UserID: "0202", Text: "/todo"}
	ack, err := w.fake.SendMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, 200, ack.Code)
	w.waitFor(t, "the answer card", func() bool { return len(w.fake.CardsFor("0202")) == 1 })
	require.Contains(t, w.fake.CardsFor("0202")[0].Params[dingtalk.ParamMarkdown], "TM-5")

	ack, err = w.fake.SendMessage(t.Context(), m)
	require.NoError(t, err)
	require.Equal(t, 200, ack.Code)
	require.NoError(t, w.platform.Close()) // waits for answers being sent
	require.Len(t, w.fake.CardsFor("0202"), 1)

	// In a group, the answer goes to the group.
	w2 := newWorld(t, worldOptions{})
	w2.run(t)
	_, err = w2.fake.SendMessage(t.Context(), dingtalktest.Message{UserID: "0202", ChatID: "cidOps", Text: "/help"})
	require.NoError(t, err)
	w2.waitFor(t, "the group's answer", func() bool {
		cards := w2.fake.Cards()
		return len(cards) > 0 && cards[0].ChatID == "cidOps"
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestStreamRetriesAndLeaksNoSecret: a refused or failing endpoint request
// is retried with backoff; what is logged of it shows no secret.
func TestStreamRetriesAndLeaksNoSecret(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.fake.Fail("/v1.0/gateway/connections/open", dingtalktest.ServerError)
	w.fake.Fail("/v1.0/gateway/connections/open", dingtalktest.TokenInvalid)
	w.run(t)
	require.GreaterOrEqual(t, w.fake.Opens(), 3)
	require.Contains(t, w.log.String(), "stream connection lost; reconnecting")
	bottest.AssertNoLeak(t, []string{clientSecret}, nil, w.log.String())

	// Wrong credentials: refused every time, never shown.
	log := bottest.NewLog()
	p, err := dingtalk.New(config.DingTalkConfig{ClientID: clientID, ClientSecret: "wrong-stream-secret-0123",
		RobotCode: robotCode, CardTemplateID: templateID, Mode: config.ModeStream, BaseURL: w.fake.URL, Timeout: time.Second},
		dingtalk.Deps{Inbound: bot.NewActions(bot.ActionsDeps{Engine: w.engine, Directory: w.engine, Render: w.render}),
			Store: w.store, Log: log.Logger, Stream: dingtalk.StreamOptions{MinBackoff: time.Millisecond}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	opens := w.fake.Opens()
	go func() { done <- p.Run(ctx) }()
	w.waitFor(t, "two refused attempts", func() bool { return w.fake.Opens() >= opens+2 })
	cancel()
	require.NoError(t, <-done)
	require.Contains(t, log.String(), "invalidClientSecret")
	bottest.AssertNoLeak(t, []string{"wrong-stream-secret-0123", clientSecret}, nil, log.String())
}
