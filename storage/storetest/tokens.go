package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/server/apitoken"
)

// The Token group checks apitoken.Store, which every flows.Store under test
// must implement as well. Where the contract leaves a choice, the suite
// pins:
//   - Times come back in UTC, equal to the written instant to the
//     microsecond; zero times (never used, never expires, not revoked)
//     come back zero.
//   - A token's hash comes back byte for byte.
func tokenTests() []suiteTest {
	return []suiteTest{
		tokenTest("round trip, list order and duplicate ids", testTokenRoundTrip),
		tokenTest("revoke keeps the first time", testTokenRevoke),
		tokenTest("touch writes at most once per interval", testTokenTouch),
		tokenTest("race: one of concurrent touches writes", testTokenTouchRace),
	}
}

// tokenTest adapts a test of an apitoken.Store to the suite.
func tokenTest(name string, fn func(t *testing.T, s apitoken.Store)) suiteTest {
	return storeTest(name, func(t *testing.T, s flows.Store) {
		store, ok := s.(apitoken.Store)
		require.True(t, ok, "%T must implement apitoken.Store as well", s)
		fn(t, store)
	})
}

// NewToken returns a write token created at BaseTime plus d, never used,
// expiring a year later, with the hash of its id.
func NewToken(id string, d time.Duration) apitoken.Token {
	hash := sha256.Sum256([]byte(id))
	return apitoken.Token{ID: id, Name: "ERP 同步", Scope: apitoken.ScopeWrite, Hash: hash[:],
		CreatedAt: At(d + 123*time.Microsecond), CreatedBy: "ops@example.com",
		ExpiresAt: At(d + 365*24*time.Hour)}
}

// utc is want as a store returns it: every time in UTC.
func utc(want apitoken.Token) apitoken.Token {
	for _, tm := range []*time.Time{&want.CreatedAt, &want.LastUsedAt, &want.ExpiresAt, &want.RevokedAt} {
		if !tm.IsZero() {
			*tm = tm.UTC()
		}
	}
	return want
}

func testTokenRoundTrip(t *testing.T, s apitoken.Store) {
	ctx := t.Context()
	_, err := s.APIToken(ctx, "tok_aaaaaaaa")
	require.ErrorIs(t, err, apitoken.ErrNotFound)
	list, err := s.APITokens(ctx)
	require.NoError(t, err)
	require.Empty(t, list)

	later := NewToken("tok_aaaaaaaa", time.Hour)
	never := NewToken("tok_bbbbbbbb", 0)
	never.Scope, never.ExpiresAt = apitoken.ScopeRead, time.Time{}
	same := NewToken("tok_cccccccc", 0) // created with never: ordered by id
	same.Scope = apitoken.ScopeAdmin
	for _, tok := range []apitoken.Token{later, same, never} {
		require.NoError(t, s.CreateAPIToken(ctx, tok))
	}
	got, err := s.APIToken(ctx, never.ID)
	require.NoError(t, err)
	require.Equal(t, utc(never), got)
	require.Equal(t, time.UTC, got.CreatedAt.Location())

	dup := NewToken(later.ID, 2*time.Hour)
	require.ErrorIs(t, s.CreateAPIToken(ctx, dup), apitoken.ErrDuplicate)
	got, err = s.APIToken(ctx, later.ID)
	require.NoError(t, err)
	require.Equal(t, utc(later), got, "a duplicate changes nothing")

	list, err = s.APITokens(ctx)
	require.NoError(t, err)
	require.Equal(t, []apitoken.Token{utc(never), utc(same), utc(later)}, list)
}

func testTokenRevoke(t *testing.T, s apitoken.Store) {
	ctx := t.Context()
	_, err := s.RevokeAPIToken(ctx, "tok_nothere", At(0))
	require.ErrorIs(t, err, apitoken.ErrNotFound)

	tok := NewToken("tok_aaaaaaaa", 0)
	other := NewToken("tok_bbbbbbbb", 0)
	require.NoError(t, s.CreateAPIToken(ctx, tok))
	require.NoError(t, s.CreateAPIToken(ctx, other))

	got, err := s.RevokeAPIToken(ctx, tok.ID, At(time.Hour))
	require.NoError(t, err)
	tok.RevokedAt = At(time.Hour)
	require.Equal(t, utc(tok), got)

	got, err = s.RevokeAPIToken(ctx, tok.ID, At(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, utc(tok), got, "a second revocation keeps the first time")

	got, err = s.APIToken(ctx, other.ID)
	require.NoError(t, err)
	require.True(t, got.RevokedAt.IsZero(), "only the named token is revoked")
}

func testTokenTouch(t *testing.T, s apitoken.Store) {
	ctx := t.Context()
	tok := NewToken("tok_aaaaaaaa", 0)
	require.NoError(t, s.CreateAPIToken(ctx, tok))
	wrote, err := s.TouchAPIToken(ctx, "tok_nothere", At(time.Hour), time.Minute)
	require.NoError(t, err, "an unknown token is no error")
	require.False(t, wrote)

	tests := []struct {
		name      string
		at        time.Duration
		wrote     bool
		wantAfter time.Duration
	}{
		{"first use", time.Hour, true, time.Hour},
		{"30s later", time.Hour + 30*time.Second, false, time.Hour},
		{"a microsecond short of a minute", time.Hour + time.Minute - time.Microsecond, false, time.Hour},
		{"a minute later", time.Hour + time.Minute, true, time.Hour + time.Minute},
		{"an earlier clock", time.Hour, false, time.Hour + time.Minute},
		{"a day later", 25 * time.Hour, true, 25 * time.Hour},
	}
	for _, tt := range tests {
		wrote, err := s.TouchAPIToken(ctx, tok.ID, At(tt.at), time.Minute)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.wrote, wrote, tt.name)
		got, err := s.APIToken(ctx, tok.ID)
		require.NoError(t, err)
		require.Equal(t, At(tt.wantAfter).UTC(), got.LastUsedAt, tt.name)
	}
}

func testTokenTouchRace(t *testing.T, s apitoken.Store) {
	ctx := t.Context()
	tok := NewToken("tok_aaaaaaaa", 0)
	require.NoError(t, s.CreateAPIToken(ctx, tok))
	const n = 8
	var wg sync.WaitGroup
	wrote := make(chan bool, n)
	for i := range n {
		wg.Go(func() {
			// Different instants within the interval, as instances whose
			// clocks differ a little.
			ok, err := s.TouchAPIToken(ctx, tok.ID, At(time.Hour+time.Duration(i)*time.Second), time.Minute)
			if err != nil {
				t.Error(err)
			}
			wrote <- ok
		})
	}
	wg.Wait()
	close(wrote)
	writes := 0
	for ok := range wrote {
		if ok {
			writes++
		}
	}
	require.Equal(t, 1, writes, "one write per interval, however many instances race")
}
