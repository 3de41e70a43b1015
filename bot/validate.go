package bot

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on what a Store keeps, in bytes. They are well above what the
// platforms send (Feishu ids are about 40 bytes, WeCom's task_id at most
// 128) and low enough that every key fits a PostgreSQL index entry.
const (
	MaxPlatformLen = 32
	MaxIDLen       = 256 // Recipient, Subject, InstanceID, MessageID
	MaxEventIDLen  = 512 // WeCom's click ids are several fields joined
	MaxDigestLen   = 128
	MaxTokenLen    = 2048
	MaxAnswerLen   = 256 << 10 // Feishu cards are at most 30 KB
)

// Validate reports, wrapping ErrInvalid, why k cannot name a card.
func (k CardKey) Validate() error {
	return errors.Join(
		checkText("platform", k.Platform, MaxPlatformLen, true),
		checkText("recipient", k.Recipient, MaxIDLen, true),
		checkText("subject", k.Subject, MaxIDLen, true),
	)
}

// Validate reports, wrapping ErrInvalid, why c cannot be stored: a field
// empty that must be set, longer than its Max* limit, not UTF-8 or holding
// a NUL byte, a negative StateVersion, or a zero SentAt or UpdatedAt.
func (c CardMessage) Validate() error {
	errs := []error{
		c.CardKey.Validate(),
		ValidateID("instance id", c.InstanceID),
		ValidateID("message id", c.MessageID),
		ValidateToken(c.UpdateToken),
		checkText("digest", c.Digest, MaxDigestLen, false),
	}
	if c.StateVersion < 0 {
		errs = append(errs, fmt.Errorf("bot: state version: %w: %d is negative", ErrInvalid, c.StateVersion))
	}
	if c.SentAt.IsZero() || c.UpdatedAt.IsZero() {
		errs = append(errs, fmt.Errorf("bot: sent at, updated at: %w: both must be set", ErrInvalid))
	}
	return errors.Join(errs...)
}

// Validate reports, wrapping ErrInvalid, why e cannot be remembered: an
// empty or over-long Platform or ID, an Answer over MaxAnswerLen, or a
// zero At.
func (e Event) Validate() error {
	errs := []error{
		checkText("platform", e.Platform, MaxPlatformLen, true),
		checkText("event id", e.ID, MaxEventIDLen, true),
	}
	if len(e.Answer) > MaxAnswerLen {
		errs = append(errs, fmt.Errorf("bot: answer: %w: %d bytes, more than %d", ErrInvalid, len(e.Answer), MaxAnswerLen))
	}
	if e.At.IsZero() {
		errs = append(errs, fmt.Errorf("bot: event at: %w: must be set", ErrInvalid))
	}
	return errors.Join(errs...)
}

// ValidateID reports, wrapping ErrInvalid, why id cannot be stored as the
// named id field (an instance or message id): it is empty, longer than
// MaxIDLen, not UTF-8 or holds a NUL byte.
func ValidateID(field, id string) error { return checkText(field, id, MaxIDLen, true) }

// ValidateToken reports, wrapping ErrInvalid, why token cannot be stored as
// an update token; the empty token (none held) is valid.
func ValidateToken(token string) error { return checkText("update token", token, MaxTokenLen, false) }

// checkText holds every text field to the same rules. A NUL byte is refused
// because PostgreSQL's text cannot hold one while SQLite's can, so the two
// stores would otherwise answer differently.
func checkText(field, s string, maxLen int, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("bot: %s: %w: must be set", field, ErrInvalid)
	case len(s) > maxLen:
		return fmt.Errorf("bot: %s: %w: %d bytes, more than %d", field, ErrInvalid, len(s), maxLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("bot: %s: %w: not UTF-8", field, ErrInvalid)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("bot: %s: %w: holds a NUL byte", field, ErrInvalid)
	}
	return nil
}
