package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"cardflow/bot"
)

var _ bot.Store = (*Store)(nil)

const cardColumns = `platform, recipient, subject, instance_id, message_id, update_token, token_expires,
	state_version, digest, sent_at, updated_at`

// sqlPutCard is PutCard's compare-and-set: the upsert's WHERE refuses an
// older state, and the same state on another message, under the row lock
// ON CONFLICT takes, so racing writers are decided by the database. A
// refused upsert affects no row. The token stays with its message.
const sqlPutCard = `
INSERT INTO bot_cards AS c (` + cardColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (platform, recipient, subject) DO UPDATE SET
	instance_id = excluded.instance_id,
	message_id = excluded.message_id,
	update_token = CASE WHEN c.message_id = excluded.message_id THEN c.update_token ELSE excluded.update_token END,
	token_expires = CASE WHEN c.message_id = excluded.message_id THEN c.token_expires ELSE excluded.token_expires END,
	state_version = excluded.state_version,
	digest = excluded.digest,
	sent_at = excluded.sent_at,
	updated_at = excluded.updated_at
WHERE excluded.state_version > c.state_version
	OR (excluded.state_version = c.state_version AND excluded.message_id = c.message_id)`

// PutCard records c unless the recorded card is newer (see bot.Store).
func (s *Store) PutCard(ctx context.Context, c bot.CardMessage) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("postgres: put card %s: %w", c.CardKey, err)
	}
	applied, err := s.putCardGrouped(ctx, c)
	if err != nil {
		return false, fmt.Errorf("postgres: put card %s: %w", c.CardKey, err)
	}
	return applied, nil
}

// Card returns the card recorded under k; bot.ErrNotFound if there is none.
func (s *Store) Card(ctx context.Context, k bot.CardKey) (bot.CardMessage, error) {
	if err := k.Validate(); err != nil {
		return bot.CardMessage{}, fmt.Errorf("postgres: card %s: %w", k, err)
	}
	c, err := s.cardGrouped(ctx, k)
	if err != nil {
		return bot.CardMessage{}, fmt.Errorf("postgres: card %s: %w", k, err)
	}
	return c, nil
}

// InstanceCards returns every card about the instance, ordered by platform,
// recipient and subject in byte order (COLLATE "C"), as SQLite orders them.
func (s *Store) InstanceCards(ctx context.Context, instanceID string) ([]bot.CardMessage, error) {
	if err := bot.ValidateID("instance id", instanceID); err != nil {
		return nil, fmt.Errorf("postgres: cards of instance %s: %w", instanceID, err)
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+cardColumns+` FROM bot_cards WHERE instance_id = $1
		ORDER BY platform COLLATE "C", recipient COLLATE "C", subject COLLATE "C"`, instanceID)
	list, err := pgx.CollectRows(rows, scanCard)
	if err != nil {
		return nil, fmt.Errorf("postgres: cards of instance %s: %w", instanceID, err)
	}
	return list, nil
}

func scanCard(row pgx.CollectableRow) (bot.CardMessage, error) {
	var c bot.CardMessage
	var expires pgtype.Timestamptz
	err := row.Scan(&c.Platform, &c.Recipient, &c.Subject, &c.InstanceID, &c.MessageID, &c.UpdateToken, &expires,
		&c.StateVersion, &c.Digest, &c.SentAt, &c.UpdatedAt)
	c.TokenExpires = timeOrZero(expires)
	return c, err
}

// SetCardToken records a fresh update token if the card still shows
// messageID.
func (s *Store) SetCardToken(ctx context.Context, k bot.CardKey, messageID, token string, expires time.Time) (bool, error) {
	if err := errors.Join(k.Validate(), bot.ValidateID("message id", messageID), bot.ValidateToken(token)); err != nil {
		return false, fmt.Errorf("postgres: set token of card %s: %w", k, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE bot_cards SET update_token = $5, token_expires = $6
		WHERE platform = $1 AND recipient = $2 AND subject = $3 AND message_id = $4`,
		k.Platform, k.Recipient, k.Subject, messageID, token, nullTime(expires))
	if err != nil {
		return false, fmt.Errorf("postgres: set token of card %s: %w", k, err)
	}
	return tag.RowsAffected() == 1, nil
}

// TakeCardToken returns the card's token, if still good at now, and clears
// it. The row lock of SELECT … FOR UPDATE makes a racing taker wait and
// then read the cleared token, so the token is handed out once.
func (s *Store) TakeCardToken(ctx context.Context, k bot.CardKey, messageID string, now time.Time) (string, error) {
	if err := errors.Join(k.Validate(), bot.ValidateID("message id", messageID)); err != nil {
		return "", fmt.Errorf("postgres: take token of card %s: %w", k, err)
	}
	var token string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var expires pgtype.Timestamptz
		err := tx.QueryRow(ctx, `SELECT update_token, token_expires FROM bot_cards
			WHERE platform = $1 AND recipient = $2 AND subject = $3 AND message_id = $4 FOR UPDATE`,
			k.Platform, k.Recipient, k.Subject, messageID).Scan(&token, &expires)
		switch exp := timeOrZero(expires); {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return err
		case token == "":
			return nil
		case !exp.IsZero() && !now.Before(exp):
			token = "" // expired: cleared below all the same
		}
		_, err = tx.Exec(ctx, `UPDATE bot_cards SET update_token = '', token_expires = NULL
			WHERE platform = $1 AND recipient = $2 AND subject = $3`, k.Platform, k.Recipient, k.Subject)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("postgres: take token of card %s: %w", k, err)
	}
	return token, nil
}

// sqlRememberEvent records an event with an asynchronous commit: the row
// is an answer kept for a platform's retries, and the state change a
// click causes is made once by the engine's idempotency key, which commits
// durably with the change itself. A crash may lose the last rows written
// (a retry of their events is then answered afresh, changing nothing);
// not waiting for the log flush spares every click one. set_config(…,
// true) holds for this statement's transaction only.
const sqlRememberEvent = `
INSERT INTO bot_events (platform, event_id, answer, at)
SELECT $1, $2, $3, $4 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async
ON CONFLICT (platform, event_id) DO NOTHING RETURNING at`

// RememberEvent records e unless its id was recorded before, and returns
// the event as first recorded. The insert waits for a racing insert of the
// same id to commit before it skips the row, so the read that follows (a
// new statement, hence a new snapshot) sees the winner's row.
func (s *Store) RememberEvent(ctx context.Context, e bot.Event) (bool, bot.Event, error) {
	if err := e.Validate(); err != nil {
		return false, bot.Event{}, fmt.Errorf("postgres: remember event %s/%s: %w", e.Platform, e.ID, err)
	}
	answer := e.Answer
	if len(answer) == 0 {
		answer = nil // reads back empty either way
	}
	// A row pruned between the two statements leaves nothing to read; the
	// next round inserts again, and a second round settles it unless a
	// pruner deletes this very id once more in between.
	for range 3 {
		var at time.Time
		err := s.pool.QueryRow(ctx, sqlRememberEvent, e.Platform, e.ID, answer, e.At).Scan(&at)
		switch {
		case err == nil:
			return true, bot.Event{Platform: e.Platform, ID: e.ID, Answer: answer, At: at}, nil
		case !errors.Is(err, pgx.ErrNoRows):
			return false, bot.Event{}, fmt.Errorf("postgres: remember event %s/%s: %w", e.Platform, e.ID, err)
		}
		// Nothing inserted: the id was recorded before; read the first answer.
		stored, found, err := s.LookupEvent(ctx, e.Platform, e.ID)
		if err != nil {
			return false, bot.Event{}, err
		}
		if found {
			return false, stored, nil
		}
	}
	return false, bot.Event{}, fmt.Errorf("postgres: remember event %s/%s: pruned while being recorded, three times", e.Platform, e.ID)
}

// LookupEvent returns the event recorded as platform and id, if any.
func (s *Store) LookupEvent(ctx context.Context, platform, id string) (bot.Event, bool, error) {
	e := bot.Event{Platform: platform, ID: id}
	err := s.pool.QueryRow(ctx, `SELECT answer, at FROM bot_events WHERE platform = $1 AND event_id = $2`,
		platform, id).Scan(&e.Answer, &e.At)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return bot.Event{}, false, nil
	case err != nil:
		return bot.Event{}, false, fmt.Errorf("postgres: look up event %s/%s: %w", platform, id, err)
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM bot_events WHERE (platform, event_id) IN (
		SELECT platform, event_id FROM bot_events WHERE at < $1 ORDER BY at LIMIT $2)`, before, limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune events before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}
