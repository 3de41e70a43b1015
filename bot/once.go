package bot

import (
	"context"
	"fmt"
	"time"
)

// AnswerOnce answers an inbound platform event at most once in effect: it
// computes the answer, then records it under the event's id. A retried
// event (the platform's redelivery, a late-acknowledged stream frame, two
// server instances given the same callback) gets the answer recorded by
// whichever delivery got there first, and first reports false, so the
// caller sends no second reply. The work answer does must be idempotent
// in itself for the event (a click's engine action carries the event id
// as its idempotency key), since two deliveries racing may both run it.
func AnswerOnce(ctx context.Context, s Store, platform, eventID string, now time.Time,
	answer func(ctx context.Context) ([]byte, error)) (out []byte, first bool, err error) {
	if eventID == "" {
		return nil, false, fmt.Errorf("bot: %s event without an id: %w", platform, ErrInvalid)
	}
	out, err = answer(ctx)
	if err != nil {
		return nil, false, err
	}
	first, stored, err := s.RememberEvent(ctx, Event{Platform: platform, ID: eventID, Answer: out, At: now})
	if err != nil {
		return nil, false, fmt.Errorf("bot: remember %s event: %w", platform, err)
	}
	return stored.Answer, first, nil
}
