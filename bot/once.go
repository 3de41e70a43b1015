package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// AnswerOnce answers an inbound platform event at most once in effect: it
// computes the answer, then records it under the event's id bound to
// request, the event's fingerprint (Click.Fingerprint, Message.Fingerprint).
// A retried event (the platform's redelivery, a late-acknowledged stream
// frame, two server instances given the same callback) gets the answer
// recorded by whichever delivery got there first, and first reports false,
// so the caller sends no second reply. The same id with another request is
// not a retry: it is answered for itself, and the engine refuses its action
// (the action's idempotency key, the event id, came with another request).
// The work answer does must be idempotent in itself for the event (a
// click's engine action carries the event id as its idempotency key),
// since two deliveries racing may both run it.
func AnswerOnce(ctx context.Context, s Store, platform, eventID, request string, now time.Time,
	answer func(ctx context.Context) ([]byte, error)) (out []byte, first bool, err error) {
	if eventID == "" {
		return nil, false, fmt.Errorf("bot: %s event without an id: %w", platform, ErrInvalid)
	}
	out, err = answer(ctx)
	if err != nil {
		return nil, false, err
	}
	first, stored, err := s.RememberEvent(ctx, Event{Platform: platform, ID: onceID(eventID, request), Answer: out, At: now})
	if err != nil {
		return nil, false, fmt.Errorf("bot: remember %s event: %w", platform, err)
	}
	return stored.Answer, first, nil
}

// Answered reports whether AnswerOnce answered the event with this
// fingerprint before: a platform whose event brings something to keep
// before it acts (WeCom's single-use update code) keeps nothing from a
// retry.
func Answered(ctx context.Context, s Store, platform, eventID, request string) (bool, error) {
	_, ok, err := s.LookupEvent(ctx, platform, onceID(eventID, request))
	if err != nil {
		return false, fmt.Errorf("bot: look up %s event: %w", platform, err)
	}
	return ok, nil
}

// onceID is the id an event is remembered under: the platform's id and the
// fingerprint of what it asks.
func onceID(eventID, request string) string { return eventID + "#" + request }

// Fingerprint says what a click asks: who clicked which button of which
// card, with which inputs.
func (c Click) Fingerprint() string {
	parts := []string{"click", c.PlatformUserID, string(c.Action), c.Payload, c.MessageID}
	for _, k := range slices.Sorted(maps.Keys(c.Values)) {
		parts = append(parts, k, c.Values[k])
	}
	return fingerprint(parts)
}

// Fingerprint says what a message asks: who wrote what, where.
func (m Message) Fingerprint() string {
	return fingerprint([]string{"message", m.PlatformUserID, m.ChatID, m.Text})
}

// fingerprint hashes parts, each prefixed with its length so that no two
// lists of parts hash alike.
func fingerprint(parts []string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(strconv.AppendInt(nil, int64(len(p)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
