package apitoken

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of a token's free text, in characters.
const (
	MaxNameLen      = 64
	MaxCreatedByLen = 128
)

// idAttempts is how many fresh ids Create tries: 40 random bits collide
// about once in a million tokens, so a second attempt is already rare.
const idAttempts = 3

// CreateParams describe a new token.
type CreateParams struct {
	// Name says what the token is for; required.
	Name  string
	Scope Scope
	// CreatedBy names who creates the token (free text).
	CreatedBy string
	// ExpiresAt is when the token stops working; zero for never.
	ExpiresAt time.Time
}

// Create makes a token and stores it, and returns it with the plain token.
// The plain token exists nowhere else (the store keeps its hash): the
// caller shows it once.
func Create(ctx context.Context, s Store, p CreateParams, now time.Time) (Token, string, error) {
	if err := p.check(now); err != nil {
		return Token{}, "", err
	}
	for range idAttempts {
		id, plain, hash := generate()
		t := Token{ID: id, Name: strings.TrimSpace(p.Name), Scope: p.Scope, Hash: hash[:],
			CreatedAt: now.UTC().Truncate(time.Microsecond), CreatedBy: p.CreatedBy}
		if !p.ExpiresAt.IsZero() {
			t.ExpiresAt = p.ExpiresAt.UTC().Truncate(time.Microsecond)
		}
		err := s.CreateAPIToken(ctx, t)
		if errors.Is(err, ErrDuplicate) {
			continue
		}
		if err != nil {
			return Token{}, "", fmt.Errorf("apitoken: create: %w", err)
		}
		return t, plain, nil
	}
	return Token{}, "", fmt.Errorf("apitoken: create: %d fresh ids were all taken", idAttempts)
}

// check returns every problem of p.
func (p CreateParams) check(now time.Time) error {
	var errs []error
	if strings.TrimSpace(p.Name) == "" {
		errs = append(errs, errors.New("name: required"))
	} else if err := checkText(p.Name, MaxNameLen); err != nil {
		errs = append(errs, fmt.Errorf("name: %w", err))
	}
	if err := checkText(p.CreatedBy, MaxCreatedByLen); err != nil {
		errs = append(errs, fmt.Errorf("created by: %w", err))
	}
	if _, err := ParseScope(string(p.Scope)); err != nil {
		errs = append(errs, fmt.Errorf("scope: %w", err))
	}
	if !p.ExpiresAt.IsZero() && !p.ExpiresAt.After(now) {
		errs = append(errs, errors.New("expires: must be in the future"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("apitoken: invalid token: %w", errors.Join(errs...))
	}
	return nil
}

// checkText refuses text a list could not show on one line: invalid UTF-8,
// control characters (tabs, newlines, NUL) or more than max characters.
func checkText(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8 text")
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return errors.New("contains a control character")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("is %d characters long, more than %d", n, max)
	}
	return nil
}
