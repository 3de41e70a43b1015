package apitoken_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/server/apitoken"
	"cardflow/storage/sqlite"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func newStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestParse(t *testing.T) {
	t.Parallel()
	tok, plain, err := apitoken.Create(t.Context(), newStore(t), apitoken.CreateParams{Name: "x", Scope: apitoken.ScopeRead}, now)
	require.NoError(t, err)
	require.Regexp(t, `^cf_tok_[a-z2-7]{8}_[A-Za-z0-9_-]{43}$`, plain)
	id, hash, ok := apitoken.Parse(plain)
	require.True(t, ok)
	require.Equal(t, tok.ID, id)
	require.Equal(t, tok.Hash, hash[:])

	secret := plain[len(plain)-43:]
	tests := []struct {
		name  string
		plain string
	}{
		{"empty", ""},
		{"no prefix", "xx" + plain[2:]},
		{"upper-case id", "cf_tok_" + strings.ToUpper(tok.ID[4:]) + "_" + secret},
		{"id of 7 characters and a longer secret", "cf_tok_" + tok.ID[4:11] + "_" + secret + "A"},
		{"no separator", strings.Replace(plain, "_"+secret, "-"+secret, 1)},
		{"padded secret", plain[:len(plain)-1] + "="},
		{"secret not in base64url", plain[:len(plain)-1] + "+"},
		{"non-canonical last character", plain[:len(plain)-1] + "B"},
		{"one character short", plain[:len(plain)-1]},
		{"one character more", plain + "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "non-canonical last character" && strings.HasSuffix(plain, "B") {
				tt.plain = plain[:len(plain)-1] + "C"
			}
			_, _, ok := apitoken.Parse(tt.plain)
			require.False(t, ok, tt.plain)
		})
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"good", "tok_abcd2345", true},
		{"upper case", "tok_ABCD2345", false},
		{"a digit base32 has not", "tok_abcd2341", false},
		{"short", "tok_abcd234", false},
		{"long", "tok_abcd23456", false},
		{"no prefix", "xxx_abcd2345", false},
		{"a whole token", "cf_tok_abcd2345_x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.ok, apitoken.ValidID(tt.id))
		})
	}
}

func TestScopeAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		have, need  apitoken.Scope
		wantAllowed bool
	}{
		{"read reads", apitoken.ScopeRead, apitoken.ScopeRead, true},
		{"read does not write", apitoken.ScopeRead, apitoken.ScopeWrite, false},
		{"write reads", apitoken.ScopeWrite, apitoken.ScopeRead, true},
		{"write does not administer", apitoken.ScopeWrite, apitoken.ScopeAdmin, false},
		{"admin writes", apitoken.ScopeAdmin, apitoken.ScopeWrite, true},
		{"an unknown scope allows nothing", apitoken.Scope("root"), apitoken.ScopeRead, false},
		{"the empty scope allows nothing", "", apitoken.ScopeRead, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.wantAllowed, tt.have.Allows(tt.need))
		})
	}
	_, err := apitoken.ParseScope("Admin")
	require.EqualError(t, err, `unknown scope "Admin": expected read, write or admin`)
}

func TestCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tests := []struct {
		name string
		p    apitoken.CreateParams
		want string
	}{
		{"no name", apitoken.CreateParams{Name: "  ", Scope: apitoken.ScopeRead}, "name: required"},
		{"long name", apitoken.CreateParams{Name: strings.Repeat("名", 65), Scope: apitoken.ScopeRead},
			"name: is 65 characters long, more than 64"},
		{"newline", apitoken.CreateParams{Name: "a\nb", Scope: apitoken.ScopeRead}, "name: contains a control character"},
		{"bad scope", apitoken.CreateParams{Name: "a", Scope: "all"}, `scope: unknown scope "all"`},
		{"past expiry", apitoken.CreateParams{Name: "a", Scope: apitoken.ScopeRead, ExpiresAt: now}, "expires: must be in the future"},
		{"bad creator", apitoken.CreateParams{Name: "a", Scope: apitoken.ScopeRead, CreatedBy: "\x00"}, "created by: contains a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := apitoken.Create(t.Context(), s, tt.p, now)
			require.ErrorContains(t, err, tt.want)
		})
	}
	list, err := s.APITokens(t.Context())
	require.NoError(t, err)
	require.Empty(t, list, "nothing refused is stored")

	tok, _, err := apitoken.Create(t.Context(), s, apitoken.CreateParams{Name: strings.Repeat("名", 64), Scope: apitoken.ScopeRead}, now)
	require.NoError(t, err, "64 characters is the limit, not 64 bytes")
	require.Equal(t, now, tok.CreatedAt)
}

// countingStore counts the writes of last use that reach the store.
type countingStore struct {
	apitoken.Store
	touches atomic.Int64
}

func (c *countingStore) TouchAPIToken(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error) {
	c.touches.Add(1)
	return c.Store.TouchAPIToken(ctx, id, at, every)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	store := &countingStore{Store: newStore(t)}
	tok, plain, err := apitoken.Create(t.Context(), store, apitoken.CreateParams{
		Name: "erp", Scope: apitoken.ScopeWrite, ExpiresAt: now.Add(time.Hour)}, now)
	require.NoError(t, err)
	clock := now
	v := apitoken.NewVerifier(store, func() time.Time { return clock }, nil)

	steps := []struct {
		name     string
		at       time.Duration
		ok       bool
		touches  int64
		lastUsed time.Duration
	}{
		{"first use", 0, true, 1, 0},
		{"again at once: no write", 59 * time.Second, true, 1, 0},
		{"a minute later: one write", time.Minute, true, 2, time.Minute},
		{"a second later: none", time.Minute + time.Second, true, 2, time.Minute},
		{"at expiry: refused, no write", time.Hour, false, 2, time.Minute},
	}
	for _, st := range steps {
		clock = now.Add(st.at)
		got, err := v.Verify(t.Context(), plain)
		if st.ok {
			require.NoError(t, err, st.name)
			require.Equal(t, tok.ID, got.ID, st.name)
		} else {
			require.ErrorIs(t, err, apitoken.ErrInvalid, st.name)
		}
		require.Equal(t, st.touches, store.touches.Load(), st.name)
		stored, err := store.APIToken(t.Context(), tok.ID)
		require.NoError(t, err)
		require.Equal(t, now.Add(st.lastUsed), stored.LastUsedAt, st.name)
	}

	clock = now
	_, err = store.RevokeAPIToken(t.Context(), tok.ID, now)
	require.NoError(t, err)
	_, err = v.Verify(t.Context(), plain)
	require.ErrorIs(t, err, apitoken.ErrInvalid, "revoked")
}
