package bot

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

func (l *cardLocks) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}

func TestCardLocks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var l cardLocks
		a := CardKey{Platform: "sim", Recipient: "u_qian", Subject: "i1.t0001"}
		b := CardKey{Platform: "sim", Recipient: "u_sun", Subject: "i1.t0002"}
		unlockA, err := l.lock(t.Context(), a)
		require.NoError(t, err)
		unlockB, err := l.lock(t.Context(), b)
		require.NoError(t, err, "another card is not held up")

		got := make(chan func(), 1)
		go func() {
			unlock, err := l.lock(t.Context(), a)
			if err == nil {
				got <- unlock
			}
		}()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = l.lock(ctx, a)
		require.ErrorIs(t, err, context.Canceled, "the wait for a held card ends with its context")
		synctest.Wait()
		require.Empty(t, got, "a card is held by one delivery at a time")

		unlockA()
		synctest.Wait()
		require.Len(t, got, 1, "the waiter has it once it is released")
		(<-got)()
		unlockB()
		require.Zero(t, l.size(), "no lock is kept once nobody holds or waits for it")
	})
}
