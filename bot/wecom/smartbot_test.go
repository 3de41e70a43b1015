package wecom_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/config"
)

func TestSmartRobotGroupCommand(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.in.cards = []bot.Card{{Subject: "todo", Title: "没有待办", Text: "你目前没有需要处理的任务。"}}
	u := b.serve(t)
	status, echo, err := b.fake.CheckRobotURL(t.Context(), u, "robot-echo-1")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "robot-echo-1", echo)

	for range 2 { // a retry gets the first answer
		r, err := b.fake.FireRobot(t.Context(), u, "bm-1", "wr-chat-1", "QianDuoduo", "@审批助手 /todo")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		require.Contains(t, r.Content, "**没有待办**")
	}
	_, msgs := b.in.got()
	require.Len(t, msgs, 2, "Inbound's work is idempotent by event id; the reply is the first")
	require.Equal(t, bot.Message{Platform: "wecom", EventID: "bot|bm-1", PlatformUserID: "QianDuoduo",
		ChatID: "wr-chat-1", Text: "/todo"}, msgs[0])
}

func TestSmartRobotNotConfigured(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *config.WeComConfig) { c.BotToken, c.BotEncodingAESKey = "", "" })
	r, err := b.fake.FireRobot(t.Context(), b.serve(t), "bm-1", "", "QianDuoduo", "/todo")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, r.Status)
	status, _, err := b.fake.CheckRobotURL(t.Context(), b.serve(t), "robot-echo-1")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, status)
}
