package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
)

// The Bot group checks bot.Store, which every flows.Store under test must
// implement as well. Where the contract leaves a choice, the suite pins:
//   - PutCard at an equal StateVersion is applied on the recorded message
//     and refused on another one (the first message recorded for a state
//     stays);
//   - InstanceCards orders by platform, recipient and subject in byte order;
//   - unknown cards are bot.ErrNotFound (not flows.ErrNotFound), an
//     instance without cards lists none, and the token calls report false or
//     "" for them;
//   - invalid arguments fail with bot.ErrInvalid before anything is written,
//     and lookups with invalid keys fail the same way.
func botTests() []suiteTest {
	return []suiteTest{
		botTest("card round trip", testCardRoundTrip),
		botTest("unknown card", testUnknownCard),
		botTest("compare-and-set by state version", testCardCAS),
		botTest("every copy of an instance's cards", testInstanceCards),
		botTest("update tokens stay with their message", testCardTokens),
		botTest("field bounds", testBotBounds),
		botTest("remember an event", testRememberEvent),
		botTest("prune events", testPruneEvents),
		botTest("race: shuffled versions end with the highest", testCardVersionRace),
		botTest("race: one message recorded per state", testCardMessageRace),
		botTest("race: a token is taken once", testTokenRace),
		botTest("race: one first of an event", testEventRace),
	}
}

// botTest adapts a test of a bot.Store to the suite, whose stores are
// flows.Stores.
func botTest(name string, fn func(t *testing.T, s bot.Store)) suiteTest {
	return storeTest(name, func(t *testing.T, s flows.Store) {
		bs, ok := s.(bot.Store)
		require.True(t, ok, "%T must implement bot.Store as well", s)
		fn(t, bs)
	})
}

// NewCard returns a card of instance "i-1" with every field set, showing
// version to recipient on platform, sent at BaseTime.
func NewCard(platform, recipient, subject string, version int64) bot.CardMessage {
	return bot.CardMessage{
		CardKey:      bot.CardKey{Platform: platform, Recipient: recipient, Subject: subject},
		InstanceID:   "i-1",
		MessageID:    "om_" + subject,
		UpdateToken:  "rc-" + subject,
		TokenExpires: At(72 * time.Hour),
		StateVersion: version,
		Digest:       fmt.Sprintf("sha256:%s@%d", subject, version),
		SentAt:       BaseTime,
		UpdatedAt:    At(time.Duration(version) * time.Second),
	}
}

// RequireCard fails the test unless got is want as stored.
func RequireCard(t testing.TB, want, got bot.CardMessage) {
	t.Helper()
	c := cmp{t: t, what: "card " + want.CardKey.String()}
	c.time("TokenExpires", want.TokenExpires, &got.TokenExpires)
	c.time("SentAt", want.SentAt, &got.SentAt)
	c.time("UpdatedAt", want.UpdatedAt, &got.UpdatedAt)
	require.Equal(t, want, got, c.what)
}

// RequireEvent fails the test unless got is want as stored; an empty
// Answer may come back nil.
func RequireEvent(t testing.TB, want, got bot.Event) {
	t.Helper()
	c := cmp{t: t, what: "event " + want.Platform + "/" + want.ID}
	c.time("At", want.At, &got.At)
	if len(want.Answer) == 0 {
		require.Empty(t, got.Answer, "%s: empty answer must stay empty", c.what)
		got.Answer = want.Answer
	}
	require.Equal(t, want, got, c.what)
}

func mustPutCard(t *testing.T, s bot.Store, c bot.CardMessage) {
	t.Helper()
	applied, err := s.PutCard(t.Context(), c)
	require.NoError(t, err)
	require.True(t, applied, "put card %s at version %d", c.CardKey, c.StateVersion)
}

func requireStoredCard(t *testing.T, s bot.Store, want bot.CardMessage) {
	t.Helper()
	got, err := s.Card(t.Context(), want.CardKey)
	require.NoError(t, err)
	RequireCard(t, want, got)
}

func testCardRoundTrip(t *testing.T, s bot.Store) {
	full := NewCard("feishu", "u-alice", "i-1.t0001", 3)
	bare := NewCard("wecom", "u-alice", "i-1.t0001", 0) // same subject, another platform
	bare.UpdateToken, bare.TokenExpires, bare.Digest = "", time.Time{}, ""
	for _, c := range []bot.CardMessage{full, bare} {
		mustPutCard(t, s, c)
	}
	requireStoredCard(t, s, full)
	requireStoredCard(t, s, bare)
}

func testUnknownCard(t *testing.T, s bot.Store) {
	ctx := t.Context()
	c := NewCard("feishu", "u-alice", "i-1.t0001", 1)
	mustPutCard(t, s, c)
	for _, k := range []bot.CardKey{
		{Platform: "feishu", Recipient: "u-alice", Subject: "i-1.t0002"},
		{Platform: "feishu", Recipient: "u-bob", Subject: "i-1.t0001"},
		{Platform: "dingtalk", Recipient: "u-alice", Subject: "i-1.t0001"},
	} {
		_, err := s.Card(ctx, k)
		require.ErrorIs(t, err, bot.ErrNotFound, "card %s", k)
		require.NotErrorIs(t, err, flows.ErrNotFound, "bot's store answers with bot's errors")
		set, err := s.SetCardToken(ctx, k, c.MessageID, "rc-new", time.Time{})
		require.NoError(t, err)
		require.False(t, set, "token of an unknown card %s", k)
		token, err := s.TakeCardToken(ctx, k, c.MessageID, BaseTime)
		require.NoError(t, err)
		require.Empty(t, token)
	}
	cards, err := s.InstanceCards(ctx, "i-none")
	require.NoError(t, err)
	require.Empty(t, cards)
}

func testCardCAS(t *testing.T, s bot.Store) {
	// Each case starts from a card recorded at version 5 on message om_1
	// with token rc-1 and puts change(card) over it.
	tests := []struct {
		name    string
		change  func(c *bot.CardMessage)
		applied bool
		token   string // the token recorded afterwards, when applied
	}{
		{name: "older state refused", change: func(c *bot.CardMessage) { c.StateVersion = 4 }},
		{name: "older state on another message refused", change: func(c *bot.CardMessage) { c.StateVersion, c.MessageID = 4, "om_2" }},
		{name: "same state on another message refused", change: func(c *bot.CardMessage) { c.MessageID, c.UpdateToken = "om_2", "rc-2" }},
		{name: "same state on the same message applied", applied: true, token: "rc-1", change: func(c *bot.CardMessage) {
			c.Digest, c.UpdateToken = "sha256:re-rendered", "rc-ignored"
		}},
		{name: "newer state on the same message keeps its token", applied: true, token: "rc-1", change: func(c *bot.CardMessage) {
			c.StateVersion, c.Digest, c.UpdateToken, c.TokenExpires = 6, "sha256:v6", "", time.Time{}
		}},
		{name: "newer state on a new message brings its token", applied: true, token: "rc-2", change: func(c *bot.CardMessage) {
			c.StateVersion, c.MessageID, c.UpdateToken, c.SentAt = 9, "om_2", "rc-2", At(time.Hour)
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := NewCard("wecom", "u-bob", fmt.Sprintf("i-1.t%04d", i), 5)
			old.MessageID, old.UpdateToken = "om_1", "rc-1"
			mustPutCard(t, s, old)
			c := old
			c.UpdatedAt = At(time.Minute)
			tc.change(&c)
			applied, err := s.PutCard(t.Context(), c)
			require.NoError(t, err)
			require.Equal(t, tc.applied, applied)
			want := old
			if tc.applied {
				want = c
				want.UpdateToken = tc.token
				if tc.token == old.UpdateToken {
					want.TokenExpires = old.TokenExpires
				}
			}
			requireStoredCard(t, s, want)
		})
	}
}

func testInstanceCards(t *testing.T, s bot.Store) {
	var want []bot.CardMessage
	// Inserted out of order; "u-B" sorts before "u-a" in byte order.
	for _, k := range []bot.CardKey{
		{Platform: "wecom", Recipient: "u-a", Subject: "i-1"},
		{Platform: "feishu", Recipient: "u-a", Subject: "i-1.t0002"},
		{Platform: "feishu", Recipient: "u-a", Subject: "i-1.t0001"},
		{Platform: "feishu", Recipient: "u-B", Subject: "i-1.t0001"},
		{Platform: "dingtalk", Recipient: "oc_group", Subject: "i-1"},
	} {
		c := NewCard(k.Platform, k.Recipient, k.Subject, 2)
		mustPutCard(t, s, c)
		want = append(want, c)
	}
	other := NewCard("feishu", "u-a", "i-2.t0001", 1)
	other.InstanceID = "i-2"
	mustPutCard(t, s, other)

	got, err := s.InstanceCards(t.Context(), "i-1")
	require.NoError(t, err)
	order := []int{4, 3, 2, 1, 0} // dingtalk; feishu u-B; feishu u-a t0001, t0002; wecom
	require.Len(t, got, len(want))
	for i, w := range order {
		RequireCard(t, want[w], got[i])
	}
	got, err = s.InstanceCards(t.Context(), "i-2")
	require.NoError(t, err)
	require.Len(t, got, 1)
	RequireCard(t, other, got[0])
}

func testCardTokens(t *testing.T, s bot.Store) {
	ctx := t.Context()
	c := NewCard("wecom", "u-carol", "i-1.t0001", 2)
	mustPutCard(t, s, c)
	k, expires := c.CardKey, At(time.Hour)

	set, err := s.SetCardToken(ctx, k, "om_other", "rc-stray", expires)
	require.NoError(t, err)
	require.False(t, set, "a token for another message")
	set, err = s.SetCardToken(ctx, k, c.MessageID, "rc-click", expires)
	require.NoError(t, err)
	require.True(t, set)

	// A newer state on the same message keeps the click's token.
	newer := c
	newer.StateVersion, newer.Digest, newer.UpdateToken = 3, "sha256:v3", "rc-stale"
	mustPutCard(t, s, newer)
	newer.UpdateToken, newer.TokenExpires = "rc-click", expires
	requireStoredCard(t, s, newer)

	token, err := s.TakeCardToken(ctx, k, "om_other", BaseTime)
	require.NoError(t, err)
	require.Empty(t, token, "taken for another message")
	token, err = s.TakeCardToken(ctx, k, c.MessageID, BaseTime)
	require.NoError(t, err)
	require.Equal(t, "rc-click", token)
	token, err = s.TakeCardToken(ctx, k, c.MessageID, BaseTime)
	require.NoError(t, err)
	require.Empty(t, token, "a token is taken once")
	newer.UpdateToken, newer.TokenExpires = "", time.Time{}
	requireStoredCard(t, s, newer)

	// A token is good until just before it expires.
	for _, tc := range []struct {
		at   time.Time
		want string
	}{{at: expires.Add(-time.Millisecond), want: "rc-late"}, {at: expires, want: ""}} {
		_, err = s.SetCardToken(ctx, k, c.MessageID, "rc-late", expires)
		require.NoError(t, err)
		token, err = s.TakeCardToken(ctx, k, c.MessageID, tc.at)
		require.NoError(t, err)
		require.Equal(t, tc.want, token, "taken at %s", tc.at)
		requireStoredCard(t, s, newer) // cleared, used or expired
	}
}

func testBotBounds(t *testing.T, s bot.Store) {
	ctx := t.Context()
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		edit  func(c *bot.CardMessage)
		valid bool
	}{
		{name: "platform at the limit", valid: true, edit: func(c *bot.CardMessage) { c.Platform = long(bot.MaxPlatformLen) }},
		{name: "platform over the limit", edit: func(c *bot.CardMessage) { c.Platform = long(bot.MaxPlatformLen + 1) }},
		{name: "recipient at the limit", valid: true, edit: func(c *bot.CardMessage) { c.Recipient = long(bot.MaxIDLen) }},
		{name: "recipient over the limit", edit: func(c *bot.CardMessage) { c.Recipient = long(bot.MaxIDLen + 1) }},
		{name: "subject at the limit", valid: true, edit: func(c *bot.CardMessage) { c.Subject = long(bot.MaxIDLen) }},
		{name: "subject over the limit", edit: func(c *bot.CardMessage) { c.Subject = long(bot.MaxIDLen + 1) }},
		{name: "message id at the limit", valid: true, edit: func(c *bot.CardMessage) { c.MessageID = long(bot.MaxIDLen) }},
		{name: "message id over the limit", edit: func(c *bot.CardMessage) { c.MessageID = long(bot.MaxIDLen + 1) }},
		{name: "instance id over the limit", edit: func(c *bot.CardMessage) { c.InstanceID = long(bot.MaxIDLen + 1) }},
		{name: "token at the limit", valid: true, edit: func(c *bot.CardMessage) { c.UpdateToken = long(bot.MaxTokenLen) }},
		{name: "token over the limit", edit: func(c *bot.CardMessage) { c.UpdateToken = long(bot.MaxTokenLen + 1) }},
		{name: "digest at the limit", valid: true, edit: func(c *bot.CardMessage) { c.Digest = long(bot.MaxDigestLen) }},
		{name: "digest over the limit", edit: func(c *bot.CardMessage) { c.Digest = long(bot.MaxDigestLen + 1) }},
		{name: "multi-byte text within the limit", valid: true, edit: func(c *bot.CardMessage) { c.Recipient = strings.Repeat("审", bot.MaxIDLen/3) }},
		{name: "multi-byte text is measured in bytes", edit: func(c *bot.CardMessage) { c.Recipient = strings.Repeat("审", bot.MaxIDLen/3+1) }},
		{name: "empty platform", edit: func(c *bot.CardMessage) { c.Platform = "" }},
		{name: "empty recipient", edit: func(c *bot.CardMessage) { c.Recipient = "" }},
		{name: "empty message id", edit: func(c *bot.CardMessage) { c.MessageID = "" }},
		{name: "empty instance id", edit: func(c *bot.CardMessage) { c.InstanceID = "" }},
		{name: "NUL in a subject", edit: func(c *bot.CardMessage) { c.Subject = "i-1\x00" }},
		{name: "not UTF-8", edit: func(c *bot.CardMessage) { c.Recipient = "u-\xff" }},
		{name: "negative state version", edit: func(c *bot.CardMessage) { c.StateVersion = -1 }},
		{name: "zero sent at", edit: func(c *bot.CardMessage) { c.SentAt = time.Time{} }},
	}
	for i, tc := range tests {
		c := NewCard("feishu", "u-dave", fmt.Sprintf("i-1.t%04d", i), 1)
		tc.edit(&c)
		applied, err := s.PutCard(ctx, c)
		if tc.valid {
			require.NoError(t, err, tc.name)
			require.True(t, applied, tc.name)
			requireStoredCard(t, s, c)
			continue
		}
		require.ErrorIs(t, err, bot.ErrInvalid, tc.name)
		require.False(t, applied, tc.name)
		if c.CardKey.Validate() == nil {
			_, err = s.Card(ctx, c.CardKey)
			require.ErrorIs(t, err, bot.ErrNotFound, "%s: nothing may be written", tc.name)
		}
	}

	bad := bot.CardKey{Platform: "feishu", Recipient: "u-dave", Subject: "i-1\x00"}
	_, err := s.Card(ctx, bad)
	require.ErrorIs(t, err, bot.ErrInvalid, "a lookup with an invalid key")
	_, err = s.InstanceCards(ctx, "")
	require.ErrorIs(t, err, bot.ErrInvalid, "cards of no instance")
	ok := NewCard("feishu", "u-dave", "i-1.t0000", 1).CardKey
	_, err = s.SetCardToken(ctx, ok, "om_x", long(bot.MaxTokenLen+1), time.Time{})
	require.ErrorIs(t, err, bot.ErrInvalid, "an over-long token")
	_, err = s.TakeCardToken(ctx, bad, "om_x", BaseTime)
	require.ErrorIs(t, err, bot.ErrInvalid, "a token of an invalid key")

	events := []struct {
		name  string
		e     bot.Event
		valid bool
	}{
		{name: "event id at the limit", valid: true, e: bot.Event{Platform: "wecom", ID: long(bot.MaxEventIDLen), At: BaseTime}},
		{name: "event id over the limit", e: bot.Event{Platform: "wecom", ID: long(bot.MaxEventIDLen + 1), At: BaseTime}},
		{name: "answer at the limit", valid: true, e: bot.Event{Platform: "wecom", ID: "big", Answer: make([]byte, bot.MaxAnswerLen), At: BaseTime}},
		{name: "answer over the limit", e: bot.Event{Platform: "wecom", ID: "bigger", Answer: make([]byte, bot.MaxAnswerLen+1), At: BaseTime}},
		{name: "empty event id", e: bot.Event{Platform: "wecom", At: BaseTime}},
		{name: "empty platform", e: bot.Event{ID: "e-1", At: BaseTime}},
		{name: "zero at", e: bot.Event{Platform: "wecom", ID: "e-2"}},
	}
	for _, tc := range events {
		first, stored, err := s.RememberEvent(ctx, tc.e)
		if !tc.valid {
			require.ErrorIs(t, err, bot.ErrInvalid, tc.name)
			require.False(t, first, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.True(t, first, tc.name)
		RequireEvent(t, tc.e, stored)
		first, stored, err = s.RememberEvent(ctx, tc.e)
		require.NoError(t, err, tc.name)
		require.False(t, first, tc.name)
		RequireEvent(t, tc.e, stored)
	}
}

func testRememberEvent(t *testing.T, s bot.Store) {
	ctx := t.Context()
	e := bot.Event{Platform: "feishu", ID: "evt-1", Answer: []byte(`{"toast":{"type":"success"}}`), At: BaseTime}
	_, found, err := s.LookupEvent(ctx, e.Platform, e.ID)
	require.NoError(t, err)
	require.False(t, found, "an event not recorded yet")
	first, stored, err := s.RememberEvent(ctx, e)
	require.NoError(t, err)
	require.True(t, first)
	RequireEvent(t, e, stored)
	looked, found, err := s.LookupEvent(ctx, e.Platform, e.ID)
	require.NoError(t, err)
	require.True(t, found, "a recorded event")
	RequireEvent(t, e, looked)
	_, found, err = s.LookupEvent(ctx, "wecom", e.ID)
	require.NoError(t, err)
	require.False(t, found, "the same id on another platform")

	retry := bot.Event{Platform: "feishu", ID: "evt-1", Answer: []byte(`{"toast":{"type":"error"}}`), At: At(5 * time.Second)}
	first, stored, err = s.RememberEvent(ctx, retry)
	require.NoError(t, err)
	require.False(t, first, "a retried event")
	RequireEvent(t, e, stored) // the first answer, the first time

	for _, other := range []bot.Event{
		{Platform: "wecom", ID: "evt-1", At: BaseTime}, // the same id on another platform; no answer
		{Platform: "feishu", ID: "evt-2", Answer: []byte{0, 0xff, '<'}, At: BaseTime},
	} {
		first, stored, err = s.RememberEvent(ctx, other)
		require.NoError(t, err)
		require.True(t, first, "event %s/%s", other.Platform, other.ID)
		RequireEvent(t, other, stored)
		_, stored, err = s.RememberEvent(ctx, other)
		require.NoError(t, err)
		RequireEvent(t, other, stored)
	}
}

func testPruneEvents(t *testing.T, s bot.Store) {
	ctx := t.Context()
	for i := range 5 {
		e := bot.Event{Platform: "dingtalk", ID: fmt.Sprint("msg-", i), Answer: []byte("ok"), At: At(time.Duration(i) * time.Minute)}
		_, _, err := s.RememberEvent(ctx, e)
		require.NoError(t, err)
	}
	n, err := s.PruneEvents(ctx, At(3*time.Minute), 0)
	require.NoError(t, err)
	require.Zero(t, n, "a limit of 0 deletes nothing")
	for _, want := range []int{2, 1, 0} {
		n, err = s.PruneEvents(ctx, At(3*time.Minute), 2)
		require.NoError(t, err)
		require.Equal(t, want, n)
	}
	for i := range 5 {
		first, _, err := s.RememberEvent(ctx, bot.Event{Platform: "dingtalk", ID: fmt.Sprint("msg-", i), At: At(time.Hour)})
		require.NoError(t, err)
		require.Equal(t, i < 3, first, "msg-%d is first again only if it was pruned", i)
	}
}
