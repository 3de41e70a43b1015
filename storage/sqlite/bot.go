package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"cardflow/bot"
)

var _ bot.Store = (*Store)(nil)

const cardColumns = `platform, recipient, subject, instance_id, message_id, update_token, token_expires,
	state_version, digest, sent_at, updated_at`

// qPutCard is PutCard's compare-and-set: the upsert's WHERE refuses an
// older state, and the same state on another message; a refused upsert
// changes no row. Card records are written in the group commits of
// group.go, so a burst of deliveries shares commits. The token stays with
// its message.
const qPutCard = `
INSERT INTO bot_cards (` + cardColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (platform, recipient, subject) DO UPDATE SET
	instance_id = excluded.instance_id,
	message_id = excluded.message_id,
	update_token = CASE WHEN bot_cards.message_id = excluded.message_id THEN bot_cards.update_token ELSE excluded.update_token END,
	token_expires = CASE WHEN bot_cards.message_id = excluded.message_id THEN bot_cards.token_expires ELSE excluded.token_expires END,
	state_version = excluded.state_version,
	digest = excluded.digest,
	sent_at = excluded.sent_at,
	updated_at = excluded.updated_at
WHERE excluded.state_version > bot_cards.state_version
	OR (excluded.state_version = bot_cards.state_version AND excluded.message_id = bot_cards.message_id)`

// PutCard records c unless the recorded card is newer (see bot.Store).
func (s *Store) PutCard(ctx context.Context, c bot.CardMessage) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("sqlite: put card %s: %w", c.CardKey, err)
	}
	var n int64
	err := s.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.stmt(ctx, tx, qPutCard).ExecContext(ctx, c.Platform, c.Recipient, c.Subject, c.InstanceID,
			c.MessageID, c.UpdateToken, timeArg(c.TokenExpires), c.StateVersion, c.Digest, timeArg(c.SentAt),
			timeArg(c.UpdatedAt))
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: put card %s: %w", c.CardKey, err)
	}
	return n == 1, nil
}

// Card returns the card recorded under k; bot.ErrNotFound if there is none.
func (s *Store) Card(ctx context.Context, k bot.CardKey) (bot.CardMessage, error) {
	if err := k.Validate(); err != nil {
		return bot.CardMessage{}, fmt.Errorf("sqlite: card %s: %w", k, err)
	}
	c, err := scanCard(s.read.QueryRowContext(ctx, `SELECT `+cardColumns+` FROM bot_cards
		WHERE platform = ? AND recipient = ? AND subject = ?`, k.Platform, k.Recipient, k.Subject))
	if errors.Is(err, sql.ErrNoRows) {
		err = bot.ErrNotFound
	}
	if err != nil {
		return bot.CardMessage{}, fmt.Errorf("sqlite: card %s: %w", k, err)
	}
	return c, nil
}

// InstanceCards returns every card about the instance, ordered by platform,
// recipient and subject (byte order).
func (s *Store) InstanceCards(ctx context.Context, instanceID string) ([]bot.CardMessage, error) {
	if err := bot.ValidateID("instance id", instanceID); err != nil {
		return nil, fmt.Errorf("sqlite: cards of instance %s: %w", instanceID, err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+cardColumns+` FROM bot_cards WHERE instance_id = ?
		ORDER BY platform, recipient, subject`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: cards of instance %s: %w", instanceID, err)
	}
	list, err := collect(rows, scanCard)
	if err != nil {
		return nil, fmt.Errorf("sqlite: cards of instance %s: %w", instanceID, err)
	}
	return list, nil
}

func scanCard(r scanner) (bot.CardMessage, error) {
	var c bot.CardMessage
	err := r.Scan(&c.Platform, &c.Recipient, &c.Subject, &c.InstanceID, &c.MessageID, &c.UpdateToken,
		microTime{&c.TokenExpires}, &c.StateVersion, &c.Digest, microTime{&c.SentAt}, microTime{&c.UpdatedAt})
	return c, err
}

// SetCardToken records a fresh update token if the card still shows
// messageID.
func (s *Store) SetCardToken(ctx context.Context, k bot.CardKey, messageID, token string, expires time.Time) (bool, error) {
	if err := errors.Join(k.Validate(), bot.ValidateID("message id", messageID), bot.ValidateToken(token)); err != nil {
		return false, fmt.Errorf("sqlite: set token of card %s: %w", k, err)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE bot_cards SET update_token = ?, token_expires = ?
		WHERE platform = ? AND recipient = ? AND subject = ? AND message_id = ?`,
		token, timeArg(expires), k.Platform, k.Recipient, k.Subject, messageID)
	if err != nil {
		return false, fmt.Errorf("sqlite: set token of card %s: %w", k, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: set token of card %s: %w", k, err)
	}
	return n == 1, nil
}

// TakeCardToken returns the card's token, if still good at now, and clears
// it; the write transaction makes reading and clearing one step.
func (s *Store) TakeCardToken(ctx context.Context, k bot.CardKey, messageID string, now time.Time) (string, error) {
	if err := errors.Join(k.Validate(), bot.ValidateID("message id", messageID)); err != nil {
		return "", fmt.Errorf("sqlite: take token of card %s: %w", k, err)
	}
	var token string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var expires time.Time
		err := tx.QueryRowContext(ctx, `SELECT update_token, token_expires FROM bot_cards
			WHERE platform = ? AND recipient = ? AND subject = ? AND message_id = ?`,
			k.Platform, k.Recipient, k.Subject, messageID).Scan(&token, microTime{&expires})
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		case token == "":
			return nil
		case !expires.IsZero() && !now.Before(expires):
			token = "" // expired: cleared below all the same
		}
		_, err = tx.ExecContext(ctx, `UPDATE bot_cards SET update_token = '', token_expires = NULL
			WHERE platform = ? AND recipient = ? AND subject = ?`, k.Platform, k.Recipient, k.Subject)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: take token of card %s: %w", k, err)
	}
	return token, nil
}

// RememberEvent records e unless its id was recorded before, and returns
// the event as first recorded; insert and read are one write of a group
// commit.
func (s *Store) RememberEvent(ctx context.Context, e bot.Event) (bool, bot.Event, error) {
	if err := e.Validate(); err != nil {
		return false, bot.Event{}, fmt.Errorf("sqlite: remember event %s/%s: %w", e.Platform, e.ID, err)
	}
	answer := e.Answer
	if len(answer) == 0 {
		answer = nil // NULL, so it reads back empty
	}
	first, stored := false, bot.Event{Platform: e.Platform, ID: e.ID}
	err := s.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO bot_events (platform, event_id, answer, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (platform, event_id) DO NOTHING`, e.Platform, e.ID, answer, timeArg(e.At))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			first = n == 1
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT answer, at FROM bot_events WHERE platform = ? AND event_id = ?`,
			e.Platform, e.ID).Scan(&stored.Answer, microTime{&stored.At})
	})
	if err != nil {
		return false, bot.Event{}, fmt.Errorf("sqlite: remember event %s/%s: %w", e.Platform, e.ID, err)
	}
	if first {
		return true, bot.Event{Platform: e.Platform, ID: e.ID, Answer: answer, At: storedTime(e.At)}, nil
	}
	return false, stored, nil
}

// LookupEvent returns the event recorded as platform and id, if any.
func (s *Store) LookupEvent(ctx context.Context, platform, id string) (bot.Event, bool, error) {
	e := bot.Event{Platform: platform, ID: id}
	err := s.read.QueryRowContext(ctx, `SELECT answer, at FROM bot_events WHERE platform = ? AND event_id = ?`,
		platform, id).Scan(&e.Answer, microTime{&e.At})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return bot.Event{}, false, nil
	case err != nil:
		return bot.Event{}, false, fmt.Errorf("sqlite: look up event %s/%s: %w", platform, id, err)
	}
	if len(e.Answer) == 0 {
		e.Answer = nil
	}
	return e, true, nil
}

// PruneEvents deletes up to limit events recorded before before, oldest
// first.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM bot_events WHERE rowid IN (
		SELECT rowid FROM bot_events WHERE at < ? ORDER BY at LIMIT ?)`, before.UnixMicro(), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return int(n), nil
}
