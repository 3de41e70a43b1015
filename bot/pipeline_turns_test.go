package bot_test

import (
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/queue"
)

// TestCommitDeliveredAtOnceUpdatesEachCopyOnce: the queue hands a
// commit's intents to several handlers at once, and each refreshes the
// instance's older cards. Every copy is still updated once, not once per
// intent.
func TestCommitDeliveredAtOnceUpdatesEachCopyOnce(t *testing.T) {
	t.Parallel()
	x := newFixture(t)
	for range 10 {
		_, opened := x.start("500.00")
		x.deliver(x.pending())
		_, err := x.engine.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: opened[0]})
		require.NoError(t, err)
		msgs := x.pending()
		require.Greater(t, len(msgs), 2, "the approval tells several people")
		var wg sync.WaitGroup
		errs := make(chan error, len(msgs))
		for _, m := range msgs {
			wg.Go(func() { errs <- x.pipeline.Handle(t.Context(), m) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	x.platform.mu.Lock()
	defer x.platform.mu.Unlock()
	require.Len(t, x.platform.updated, 30, "the three finance copies of each order")
	for id, n := range x.platform.updated {
		require.Equal(t, 1, n, "message %s updated once", id)
	}
}

// TestCardSentDuringACommitIsBroughtUpToIt: sun's task card is rendered
// and on its way while 钱多多's approval commits and is delivered. The
// intent telling sun his task closed waits for that send to finish and
// then updates the card, which would otherwise keep its buttons until the
// instance's next commit.
func TestCardSentDuringACommitIsBroughtUpToIt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		x := newFixture(t)
		release := make(chan struct{})
		x.platform.hold = func(to bot.Reader) {
			if to.UserID == "u_sun" {
				<-release
			}
		}
		_, opened := x.start("500.00")
		var wg sync.WaitGroup
		handle := func(msgs []queue.Message) {
			for _, m := range msgs {
				wg.Go(func() {
					if err := x.pipeline.Handle(t.Context(), m); err != nil {
						t.Error(err)
					}
				})
			}
		}
		handle(x.pending())
		synctest.Wait() // every card out but sun's, which is in flight

		_, err := x.engine.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: opened[0]})
		require.NoError(t, err)
		handle(x.pending())
		synctest.Wait()
		close(release)
		wg.Wait()

		cards := x.platform.cardsOf("u_sun")
		require.Len(t, cards, 1)
		for _, c := range cards {
			require.Empty(t, c.Buttons, "sun's card shows the approval")
			require.Equal(t, "approve by u_qian", c.StatusLine)
		}
	})
}
