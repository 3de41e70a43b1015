package bot_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
)

// TestClickOnAnOutdatedCardIsRefused: a decision taken from a card that
// showed an older state of the instance (here: before another signer
// transferred their task) is refused with the card as it now stands; the
// same click on the current card goes through, and a comment may come
// from any copy. Only who may act on the task learns the card is old.
func TestClickOnAnOutdatedCardIsRefused(t *testing.T) {
	t.Parallel()
	x := newClicks(t)
	ctx := t.Context()
	res := x.smallOrder("TM-7")
	task := x.open("u_qian")
	shown := res.Version
	engine, actions := x.engine, x.actions

	_, err := engine.Act(ctx, flows.Action{Kind: flows.ActTransfer, Actor: "u_sun", TaskID: x.open("u_sun"), To: "u_wang", Key: "k-sun"})
	require.NoError(t, err)

	wrong := bot.Payload{TaskID: task, Version: shown}.String()
	reply, err := actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e0", PlatformUserID: "wu", Payload: wrong,
		Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
	require.NotContains(t, reply.Toast.Text, "卡片已过期", "who may not act is not told about the card's state")

	stale := bot.Payload{TaskID: task, Version: shown}.String()
	reply, err = actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e1", PlatformUserID: "qian", Payload: stale,
		Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastError, reply.Toast.Kind)
	require.Contains(t, reply.Toast.Text, "卡片已过期")
	require.NotNil(t, reply.Card, "the answer is the card as it stands")
	require.Greater(t, reply.Card.Version, shown)

	reply, err = actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e2", PlatformUserID: "qian", Payload: stale,
		Action: flows.ActComment, Values: map[string]string{bot.InputComment: "收到"}})
	require.NoError(t, err)
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, "a comment from an older copy is fine")

	ahead := bot.Payload{TaskID: task, Version: reply.Card.Version + 5}.String()
	reply, err = actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e-ahead", PlatformUserID: "qian", Payload: ahead,
		Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastError, reply.Toast.Kind, "no card shows a version its instance never had")

	current := bot.Payload{TaskID: task, Version: reply.Card.Version}.String()
	reply, err = actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e3", PlatformUserID: "qian", Payload: current,
		Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
	again, err := actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e3", PlatformUserID: "qian", Payload: current,
		Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, reply.Toast, again.Toast, "a retried click gets its first answer, though the card it came from is now old")
}

// TestCommentAndUrgeLeaveTheCardValid: a comment, an urge (催办) or an SLA
// reminder changes nothing a card shows, so a card drawn before them may
// still decide; WeCom, for one, cannot redraw a card nobody clicked.
func TestCommentAndUrgeLeaveTheCardValid(t *testing.T) {
	t.Parallel()
	x := newClicks(t)
	ctx := t.Context()
	res := x.smallOrder("TM-9")
	task := x.open("u_qian")

	_, err := x.engine.Comment(ctx, flows.CommentRequest{Actor: "u_chen", InstanceID: res.InstanceID, Text: "加急"})
	require.NoError(t, err)
	_, err = x.engine.Urge(ctx, flows.UrgeRequest{Actor: "u_chen", InstanceID: res.InstanceID})
	require.NoError(t, err)

	stale := bot.Payload{TaskID: task, Version: res.Version}.String()
	reply, err := x.actions.Click(ctx, bot.Click{Platform: "sim", EventID: "e1", PlatformUserID: "qian", Payload: stale,
		Action: flows.ActApprove})
	require.NoError(t, err)
	require.Equal(t, bot.ToastSuccess, reply.Toast.Kind, reply.Toast.Text)
}
