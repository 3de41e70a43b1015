package sim_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/sim"
	"cardflow/queue"
)

// newPlatform is the simulator without a page, as the pipeline's tests use
// it.
func newPlatform(t *testing.T, cfg sim.Config) *sim.Platform {
	t.Helper()
	p, err := sim.New(cfg, sim.Deps{Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	return p
}

var _ bot.Platform = (*sim.Platform)(nil)

func TestSendShowsTheCardInTheReadersInbox(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	require.Equal(t, "sim", p.Name())

	sent, err := p.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)
	require.NotEmpty(t, sent.MessageID)
	sent2, err := p.Send(t.Context(), reader("qian"), card(1, bot.StatusInfo))
	require.NoError(t, err)
	require.NotEqual(t, sent.MessageID, sent2.MessageID)

	msgs := p.Messages(reader("qian"))
	require.Len(t, msgs, 2)
	require.Equal(t, sent.MessageID, msgs[0].ID)
	require.Equal(t, sim.KindCard, msgs[0].Kind)
	require.Equal(t, card(1, bot.StatusPending), *msgs[0].Card)
	require.Equal(t, fixedNow, msgs[0].SentAt)
	require.Less(t, msgs[0].Seq, msgs[1].Seq)
	require.Empty(t, p.Messages(reader("sun")), "another reader's inbox is untouched")
}

func TestSendToAGroupChatGoesToTheChat(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	group := bot.Reader{ChatID: "oc_ops", Name: "运营群"}
	_, err := p.Send(t.Context(), group, card(1, bot.StatusAlert))
	require.NoError(t, err)
	require.Len(t, p.Messages(group), 1)
	// A person whose sim id is the chat's id is another inbox.
	require.Empty(t, p.Messages(reader("oc_ops")))
}

func TestSendKeepsItsOwnCopyOfTheCard(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	c := card(1, bot.StatusPending)
	_, err := p.Send(t.Context(), reader("qian"), c)
	require.NoError(t, err)
	c.Fields[0].Value = "changed"
	c.Tables[0].Rows[0][0] = "changed"
	c.Buttons[0].Label = "changed"
	got := p.Messages(reader("qian"))[0].Card
	require.Equal(t, "TM-1001", got.Fields[0].Value)
	require.Equal(t, "SKU-1", got.Tables[0].Rows[0][0])
	require.Equal(t, "同意", got.Buttons[0].Label)
}

func TestUpdateReplacesTheCardInPlace(t *testing.T) {
	t.Parallel()
	now := fixedNow
	p, err := sim.New(sim.Config{}, sim.Deps{Now: func() time.Time { return now }})
	require.NoError(t, err)
	first, err := p.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)
	_, err = p.Send(t.Context(), reader("qian"), card(1, bot.StatusInfo))
	require.NoError(t, err)
	before := p.Messages(reader("qian"))[0]

	now = fixedNow.Add(time.Minute)
	done := card(2, bot.StatusApproved)
	done.Buttons, done.StatusLine = nil, "已同意 · 钱多多 · 10:43"
	sent, err := p.Update(t.Context(), reader("qian"), bot.CardMessage{MessageID: first.MessageID}, done)
	require.NoError(t, err)
	require.Equal(t, first.MessageID, sent.MessageID)

	msgs := p.Messages(reader("qian"))
	require.Len(t, msgs, 2, "an update adds no message")
	require.Equal(t, first.MessageID, msgs[0].ID, "and keeps the card where it was")
	require.Equal(t, done, *msgs[0].Card)
	require.Equal(t, before.Seq, msgs[0].Seq)
	require.Greater(t, msgs[0].Rev, before.Rev)
	require.Equal(t, fixedNow, msgs[0].SentAt)
	require.Equal(t, now, msgs[0].UpdatedAt)
}

func TestUpdateOfAnUnknownMessageShowsItAnew(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	// The pipeline's store remembers a message from before a restart.
	sent, err := p.Update(t.Context(), reader("qian"), bot.CardMessage{MessageID: "sim_old_7"}, card(3, bot.StatusApproved))
	require.NoError(t, err)
	require.Equal(t, "sim_old_7", sent.MessageID)
	msgs := p.Messages(reader("qian"))
	require.Len(t, msgs, 1)
	require.Equal(t, "sim_old_7", msgs[0].ID)

	_, err = p.Update(t.Context(), reader("qian"), bot.CardMessage{MessageID: "sim_old_7"}, card(4, bot.StatusDone))
	require.NoError(t, err)
	msgs = p.Messages(reader("qian"))
	require.Len(t, msgs, 1, "the id shown anew is updated in place from then on")
	require.Equal(t, bot.StatusDone, msgs[0].Card.Status)
}

func TestAnInboxKeepsItsLatestMessages(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{InboxSize: 3})
	var ids []string
	for i := range 5 {
		sent, err := p.Send(t.Context(), reader("qian"), card(int64(i+1), bot.StatusPending))
		require.NoError(t, err)
		ids = append(ids, sent.MessageID)
	}
	msgs := p.Messages(reader("qian"))
	require.Len(t, msgs, 3)
	require.Equal(t, []string{ids[2], ids[3], ids[4]}, []string{msgs[0].ID, msgs[1].ID, msgs[2].ID})

	// The oldest fell out; its update shows it again, and drops the next oldest.
	_, err := p.Update(t.Context(), reader("qian"), bot.CardMessage{MessageID: ids[0]}, card(9, bot.StatusDone))
	require.NoError(t, err)
	msgs = p.Messages(reader("qian"))
	require.Len(t, msgs, 3)
	require.Equal(t, []string{ids[3], ids[4], ids[0]}, []string{msgs[0].ID, msgs[1].ID, msgs[2].ID})
}

func TestFailNextFailsCallsInOrderAndChangesNothing(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	ctx := t.Context()
	boom := errors.New("boom")
	p.FailNext(queue.RateLimited(boom, 2*time.Second), nil, queue.Permanent(boom))

	_, err := p.Send(ctx, reader("qian"), card(1, bot.StatusPending))
	after, limited := queue.RetryAfter(err)
	require.True(t, limited, "the injected error keeps its class: %v", err)
	require.Equal(t, 2*time.Second, after)
	require.ErrorIs(t, err, boom)
	require.Empty(t, p.Messages(reader("qian")))

	sent, err := p.Send(ctx, reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err, "a nil entry lets its call through")

	_, err = p.Update(ctx, reader("qian"), bot.CardMessage{MessageID: sent.MessageID}, card(2, bot.StatusApproved))
	require.True(t, queue.IsPermanent(err))
	require.Equal(t, bot.StatusPending, p.Messages(reader("qian"))[0].Card.Status, "a failed update changes nothing")

	_, err = p.Update(ctx, reader("qian"), bot.CardMessage{MessageID: sent.MessageID}, card(2, bot.StatusApproved))
	require.NoError(t, err, "the queued failures are used up")

	calls := p.Calls()
	require.Len(t, calls, 4)
	require.Equal(t, []sim.Op{sim.OpSend, sim.OpSend, sim.OpUpdate, sim.OpUpdate},
		[]sim.Op{calls[0].Op, calls[1].Op, calls[2].Op, calls[3].Op})
	require.Error(t, calls[0].Err)
	require.Empty(t, calls[0].MessageID)
	require.Equal(t, sent.MessageID, calls[1].MessageID)
	require.Equal(t, sent.MessageID, calls[2].Message.MessageID)
}

func TestFailWithAsksAHookForEveryCall(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	down := errors.New("platform down")
	p.FailWith(func(c sim.Call) error {
		if c.To.PlatformUserID == "sun" {
			return down
		}
		return nil
	})
	_, err := p.Send(t.Context(), reader("sun"), card(1, bot.StatusInfo))
	require.ErrorIs(t, err, down)
	_, err = p.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)

	p.FailNext(errors.New("first"))
	_, err = p.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.ErrorContains(t, err, "first", "FailNext goes before the hook")

	p.FailWith(nil)
	_, err = p.Send(t.Context(), reader("sun"), card(1, bot.StatusInfo))
	require.NoError(t, err)
}

func TestSendAndUpdateRefuseWhatCannotBeShown(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	_, err := p.Send(t.Context(), bot.Reader{UserID: "u_qian"}, card(1, bot.StatusPending))
	require.True(t, queue.IsPermanent(err), "no sim id and no chat: %v", err)
	_, err = p.Update(t.Context(), reader("qian"), bot.CardMessage{}, card(1, bot.StatusPending))
	require.True(t, queue.IsPermanent(err), "no message id: %v", err)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = p.Send(ctx, reader("qian"), card(1, bot.StatusPending))
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, queue.IsPermanent(err))
	require.Empty(t, p.Messages(reader("qian")))
}

func TestWaitReturnsOnceADeliveryMeetsTheCondition(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	sending := make(chan struct{})
	go func() {
		<-sending
		for i := range 3 {
			_, _ = p.Send(context.Background(), reader("qian"), card(int64(i+1), bot.StatusPending))
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	close(sending)
	require.NoError(t, p.Wait(ctx, func() bool { return len(p.Messages(reader("qian"))) == 3 }))

	short, cancel2 := context.WithCancel(t.Context())
	cancel2()
	require.ErrorIs(t, p.Wait(short, func() bool { return false }), context.Canceled)
}

// TestWaitWakesOnAFailedCall: a failed call changes no inbox, yet a test
// may wait for it (a card refused on purpose); Wait must not sleep until
// some later delivery happens to wake it.
func TestWaitWakesOnAFailedCall(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{})
	p.FailWith(func(sim.Call) error { return queue.Permanent(errors.New("unreachable")) })
	waiting := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		done <- p.Wait(ctx, func() bool {
			once.Do(func() { close(waiting) })
			return len(p.Calls()) == 1
		})
	}()
	<-waiting
	_, err := p.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.Error(t, err)
	require.NoError(t, <-done, "the failed call woke the waiter")
	require.Empty(t, p.Messages(reader("qian")))
}

func TestConcurrentSendsAndUpdates(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, sim.Config{InboxSize: 500})
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Go(func() {
			to := reader(fmt.Sprint("user", g%3))
			for i := range 20 {
				sent, err := p.Send(context.Background(), to, card(int64(i), bot.StatusPending))
				if err == nil {
					_, err = p.Update(context.Background(), to, bot.CardMessage{MessageID: sent.MessageID}, card(int64(i+1), bot.StatusApproved))
				}
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for u := range 3 {
		for _, m := range p.Messages(reader(fmt.Sprint("user", u))) {
			require.Equal(t, bot.StatusApproved, m.Card.Status)
			total++
		}
	}
	require.Equal(t, 200, total)
}

func TestNewRefusesABadConfigAndHalfTheDeps(t *testing.T) {
	t.Parallel()
	_, err := sim.New(sim.Config{Path: "sim", InboxSize: -1, MaxBody: 10, Heartbeat: time.Millisecond,
		Chats: []sim.Chat{{ID: "ops"}, {ID: "ops"}, {ID: ""}}}, sim.Deps{})
	require.Error(t, err)
	for _, want := range []string{"sim.path", "sim.inbox_size", "sim.max_body", "sim.heartbeat", "sim.chats[1].id: \"ops\": listed twice", "sim.chats[2].id"} {
		require.ErrorContains(t, err, want)
	}

	_, err = sim.New(sim.Config{}, sim.Deps{Inbound: &fakeInbound{}})
	require.ErrorContains(t, err, "[Engine Store Users] missing")
}
