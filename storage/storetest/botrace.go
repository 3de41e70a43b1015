package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
)

// The races of the Bot group: 16 goroutines released together (see race)
// on one card or one event, as several servers would.

func testCardVersionRace(t *testing.T, s bot.Store) {
	const n = 16
	for round := range 4 {
		subject := fmt.Sprintf("i-1.t%04d", round)
		versions := rand.Perm(n) // 0..15, shuffled
		cards := make([]bot.CardMessage, n)
		applied := make([]bool, n)
		errs := race(n, func(i int) error {
			cards[i] = NewCard("feishu", "u-erin", subject, int64(versions[i])+1)
			if round%2 == 1 { // odd rounds: every version on a message of its own
				cards[i].MessageID = fmt.Sprint("om_", versions[i])
			}
			var err error
			applied[i], err = s.PutCard(t.Context(), cards[i])
			return err
		})
		highest := -1
		for i, err := range errs {
			require.NoError(t, err)
			if versions[i] == n-1 {
				highest = i
			}
		}
		require.True(t, applied[highest], "round %d: the highest version must be applied", round)
		requireStoredCard(t, s, cards[highest]) // and every field is its, none from an older write
	}
}

func testCardMessageRace(t *testing.T, s bot.Store) {
	const n = 16
	cards := make([]bot.CardMessage, n)
	applied := make([]bool, n)
	errs := race(n, func(i int) error {
		cards[i] = NewCard("wecom", "u-frank", "i-1.t0001", 1)
		cards[i].MessageID, cards[i].UpdateToken = fmt.Sprint("msg-", i), fmt.Sprint("rc-", i)
		var err error
		applied[i], err = s.PutCard(t.Context(), cards[i])
		return err
	})
	won := -1
	for i, err := range errs {
		require.NoError(t, err)
		if applied[i] {
			require.Equal(t, -1, won, "writers %d and %d both recorded a message for one state", won, i)
			won = i
		}
	}
	require.NotEqual(t, -1, won, "no message recorded")
	requireStoredCard(t, s, cards[won])
}

func testTokenRace(t *testing.T, s bot.Store) {
	const n = 16
	c := NewCard("wecom", "u-grace", "i-1.t0001", 1)
	mustPutCard(t, s, c)
	for round := range 8 { // the window between reading and clearing is short
		token := fmt.Sprint("rc-", round)
		set, err := s.SetCardToken(t.Context(), c.CardKey, c.MessageID, token, time.Time{})
		require.NoError(t, err)
		require.True(t, set)
		tokens := make([]string, n)
		errs := race(n, func(i int) error {
			var err error
			tokens[i], err = s.TakeCardToken(t.Context(), c.CardKey, c.MessageID, BaseTime)
			return err
		})
		taken := 0
		for i, err := range errs {
			require.NoError(t, err)
			if tokens[i] != "" {
				require.Equal(t, token, tokens[i])
				taken++
			}
		}
		require.Equal(t, 1, taken, "round %d: a token is handed out once", round)
	}
}

func testEventRace(t *testing.T, s bot.Store) {
	const n = 16
	firsts := make([]bool, n)
	stored := make([]bot.Event, n)
	errs := race(n, func(i int) error {
		var err error
		firsts[i], stored[i], err = s.RememberEvent(t.Context(), bot.Event{
			Platform: "feishu", ID: "evt-race", Answer: []byte(fmt.Sprint("answer ", i)), At: At(time.Duration(i) * time.Second),
		})
		return err
	})
	won := winner(t, firstErrors(errs, firsts), errNotFirst)
	want := bot.Event{Platform: "feishu", ID: "evt-race", Answer: []byte(fmt.Sprint("answer ", won)), At: At(time.Duration(won) * time.Second)}
	for i := range n {
		RequireEvent(t, want, stored[i]) // everyone is answered with the winner's answer
	}
}

// errNotFirst stands for a RememberEvent that found the event recorded, so
// winner can pick the one first.
var errNotFirst = errors.New("not first")

func firstErrors(errs []error, firsts []bool) []error {
	out := make([]error, len(errs))
	for i, err := range errs {
		out[i] = err
		if err == nil && !firsts[i] {
			out[i] = errNotFirst
		}
	}
	return out
}
