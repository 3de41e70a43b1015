// Package apitoken is the bearer tokens of /api/v1 that operators create,
// list and revoke with `cardflow tokens`, as opposed to the tokens of the
// configuration. A token is shown once, when it is created; the store keeps
// only the SHA-256 hash of its secret, its scope and its history (created,
// last used, expires, revoked).
//
// A token reads cf_<id>_<secret>: the id (tok_ and 8 characters) is public
// and names the token in lists, logs and `cardflow tokens revoke`; the
// secret is 32 random bytes in unpadded base64url. The id in the token lets
// a request be checked with one lookup by primary key, without scanning.
package apitoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Scope is what a token may do. The scopes are ordered: each one allows
// everything the one before it does.
type Scope string

// The scopes, from the least to the most allowed.
const (
	// ScopeRead may read: every GET of /api/v1.
	ScopeRead Scope = "read"
	// ScopeWrite may also act: start instances, decide and act on tasks.
	ScopeWrite Scope = "write"
	// ScopeAdmin may also administer: set and delete leave proxies.
	ScopeAdmin Scope = "admin"
)

// rank orders the scopes; an unknown scope allows nothing.
func (s Scope) rank() int {
	switch s {
	case ScopeRead:
		return 1
	case ScopeWrite:
		return 2
	case ScopeAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a token of scope s may do what needs scope need.
func (s Scope) Allows(need Scope) bool { return s.rank() > 0 && s.rank() >= need.rank() }

// ParseScope returns the scope named s, or an error naming the scopes there
// are.
func ParseScope(s string) (Scope, error) {
	if sc := Scope(s); sc.rank() > 0 {
		return sc, nil
	}
	return "", fmt.Errorf("unknown scope %q: expected read, write or admin", s)
}

// Token is a stored token: everything but its secret, of which only the
// hash is kept.
type Token struct {
	// ID is the token's public name, tok_ and 8 characters.
	ID string
	// Name says what the token is for ("ERP sync"), at most MaxNameLen
	// characters.
	Name  string
	Scope Scope
	// Hash is the SHA-256 hash of the secret's 32 bytes.
	Hash []byte
	// CreatedAt is when the token was created, in UTC.
	CreatedAt time.Time
	// CreatedBy is free text naming who created the token.
	CreatedBy string
	// LastUsedAt is when the token was last accepted, to within TouchEvery;
	// zero if never.
	LastUsedAt time.Time
	// ExpiresAt is when the token stops working; zero if never.
	ExpiresAt time.Time
	// RevokedAt is when the token was revoked; zero if it was not.
	RevokedAt time.Time
}

// State returns "revoked", "expired" or "active": whether the token is
// accepted at now.
func (t Token) State(now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// Errors of a Store.
var (
	// ErrNotFound says there is no token with the id.
	ErrNotFound = errors.New("no such token")
	// ErrDuplicate says a token with the id exists already.
	ErrDuplicate = errors.New("a token with this id exists")
)

// Store keeps the tokens. storage/postgres and storage/sqlite implement it;
// storage/storetest checks them.
type Store interface {
	// CreateAPIToken stores t, which has every field but LastUsedAt and
	// RevokedAt; ErrDuplicate if its id is taken.
	CreateAPIToken(ctx context.Context, t Token) error
	// APIToken returns the token with id, revoked and expired ones too;
	// ErrNotFound if there is none.
	APIToken(ctx context.Context, id string) (Token, error)
	// APITokens returns every token, by CreatedAt, then ID.
	APITokens(ctx context.Context) ([]Token, error)
	// RevokeAPIToken sets the token's RevokedAt to at, unless it was revoked
	// before (then the first time stays), and returns the token as stored;
	// ErrNotFound if there is none.
	RevokeAPIToken(ctx context.Context, id string, at time.Time) (Token, error)
	// TouchAPIToken sets the token's LastUsedAt to at unless it was set less
	// than every before at (or after at), and reports whether it wrote. An
	// unknown id writes nothing and is no error.
	TouchAPIToken(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error)
}

// The token format.
const (
	prefix    = "cf_"
	idPrefix  = "tok_"
	idChars   = 8
	idLen     = len(idPrefix) + idChars
	secretLen = 32
	// secretChars is the length of the secret in unpadded base64url.
	secretChars = (secretLen*8 + 5) / 6
	tokenLen    = len(prefix) + idLen + 1 + secretChars
)

// idEncoding spells the id's 5 random bytes as 8 characters of lower-case
// base32: no character a shell, a URL or a table column treats specially.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// secretEncoding is strict, so a token has one spelling only.
var secretEncoding = base64.RawURLEncoding.Strict()

// ValidID reports whether id is spelled as a token id.
func ValidID(id string) bool {
	if len(id) != idLen || !strings.HasPrefix(id, idPrefix) {
		return false
	}
	b, err := idEncoding.DecodeString(id[len(idPrefix):])
	return err == nil && idEncoding.EncodeToString(b) == id[len(idPrefix):]
}

// LooksLikeToken reports whether s starts like a token rather than an id,
// so a command given a token by mistake can say so.
func LooksLikeToken(s string) bool { return strings.HasPrefix(s, prefix+idPrefix) }

// Parse splits a token into its id and the hash of its secret; ok is false
// if plain is not a well-formed token.
func Parse(plain string) (id string, hash [sha256.Size]byte, ok bool) {
	if len(plain) != tokenLen || !strings.HasPrefix(plain, prefix) {
		return "", hash, false
	}
	id, rest := plain[len(prefix):len(prefix)+idLen], plain[len(prefix)+idLen:]
	if !ValidID(id) || rest[0] != '_' {
		return "", hash, false
	}
	secret, err := secretEncoding.DecodeString(rest[1:])
	if err != nil || len(secret) != secretLen {
		return "", hash, false
	}
	return id, sha256.Sum256(secret), true
}

// generate returns a fresh id, the plain token and the hash of its secret.
//
// The secret is 32 bytes from crypto/rand, so a guess is as hopeless as a
// brute force of the hash: a fast hash (SHA-256) is right, and a slow one
// (bcrypt, argon2) would only cost every request its time. Slow hashes
// protect passwords, which people choose and which can be guessed.
func generate() (id, plain string, hash [sha256.Size]byte) {
	var idBytes [5]byte
	var secret [secretLen]byte
	_, _ = rand.Read(idBytes[:]) // crypto/rand.Read never fails
	_, _ = rand.Read(secret[:])
	id = idPrefix + idEncoding.EncodeToString(idBytes[:])
	return id, prefix + id + "_" + secretEncoding.EncodeToString(secret[:]), sha256.Sum256(secret[:])
}
