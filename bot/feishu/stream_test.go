package feishu_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/feishu"
	"cardflow/bot/feishu/feishutest"
	"cardflow/config"
	"cardflow/flows"
)

// startStream sets the platform up in stream mode and runs its long
// connection until the test ends.
func startStream(t *testing.T) *bundle {
	t.Helper()
	b := setup(t, func(c *config.FeishuConfig, _ *feishu.Deps) { c.Mode = config.ModeStream })
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- b.p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	wait, stop := context.WithTimeout(t.Context(), 10*time.Second)
	defer stop()
	require.NoError(t, b.fake.WaitConnected(wait, 1))
	return b
}

// approveOverStream sends u_qian's card of a new order and pushes her
// click on 同意; it returns the instance and the answer.
func (b *bundle) approveOverStream(ctx context.Context, no string) (string, feishutest.Answer) {
	b.t.Helper()
	inst := b.order(no)
	m := b.sendTask("u_qian", b.task(inst, "u_qian").ID)
	value, err := feishutest.ButtonValue(m.Card, "同意")
	require.NoError(b.t, err)
	ans, err := b.fake.StreamClick(ctx, feishutest.Click{OpenID: "ou_qian0003", MessageID: m.ID, Value: value})
	require.NoError(b.t, err)
	return inst, ans
}

func TestStreamClick(t *testing.T) {
	t.Parallel()
	b := startStream(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	inst, ans := b.approveOverStream(ctx, "TM-5001")
	require.Equal(t, 200, ans.Status)
	require.Equal(t, "success", ans.Toast.Type, string(ans.Body))
	require.NotEmpty(t, ans.Card)
	require.Equal(t, flows.TaskApproved, b.task(inst, "u_qian").Status)
}

// TestStreamReconnectsAndLosesNothing: a connection dropped while idle is
// opened again; a click whose connection drops before its acknowledgement
// is redelivered on the new connection and acted on once.
func TestStreamReconnectsAndLosesNothing(t *testing.T) {
	t.Parallel()
	b := startStream(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	inst, ans := b.approveOverStream(ctx, "TM-5101")
	require.Equal(t, "success", ans.Toast.Type)
	perApproval := b.audit(inst)

	b.fake.DropConnection()
	require.NoError(t, b.fake.WaitConnected(ctx, 2))

	b.fake.DropAfterNextPush()
	inst, ans = b.approveOverStream(ctx, "TM-5102")
	require.Equal(t, "success", ans.Toast.Type, string(ans.Body))
	require.GreaterOrEqual(t, b.fake.Connections(), 3, "the click came back on a new connection")
	require.Equal(t, flows.TaskApproved, b.task(inst, "u_qian").Status)
	require.Equal(t, perApproval, b.audit(inst), "acted on once")
}

// TestStreamRedeliveryIsAnsweredTheSame: Feishu redelivers an event it
// got no acknowledgement for in time; the same event id gets the same
// answer and acts once.
func TestStreamRedeliveryIsAnsweredTheSame(t *testing.T) {
	t.Parallel()
	b := startStream(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	inst := b.order("TM-5201")
	m := b.sendTask("u_qian", b.task(inst, "u_qian").ID)
	value, err := feishutest.ButtonValue(m.Card, "同意")
	require.NoError(t, err)
	click := feishutest.Click{EventID: feishutest.NewEventID(), OpenID: "ou_qian0003", MessageID: m.ID, Value: value}
	first, err := b.fake.StreamClick(ctx, click)
	require.NoError(t, err)
	entries := b.audit(inst)
	again, err := b.fake.StreamClick(ctx, click)
	require.NoError(t, err)
	require.Equal(t, first.Body, again.Body)
	require.Equal(t, entries, b.audit(inst))
}
