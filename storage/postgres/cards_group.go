package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cardflow/bot"
	"cardflow/storage/internal/batch"
)

// Card records and card reads in groups (reads below). Every delivery
// ends in PutCard, so a burst of deliveries would cost a commit each;
// instead PutCard hands its upsert to the batches workers (storage/internal/batch),
// which send the upserts waiting as one pipelined batch — one implicit
// transaction, one commit — ordered by card key, so two groups lock rows in
// one order. Each upsert is its own compare-and-set and none depends on
// another, so when the batch fails, nothing of it was written and each goes
// again alone, meeting its own error if it has one.
const (
	maxCardGroup = 64
	cardWorkers  = 2
	cardTimeout  = 30 * time.Second
)

type cardReq struct {
	ctx  context.Context
	c    bot.CardMessage
	done chan cardResult
}

type cardResult struct {
	applied bool
	err     error
}

// putCardGrouped records c through a group.
func (s *Store) putCardGrouped(ctx context.Context, c bot.CardMessage) (bool, error) {
	r := &cardReq{ctx: ctx, c: c, done: make(chan cardResult, 1)}
	sent, err := s.cards.Send(ctx, r)
	switch {
	case err != nil:
		return false, err
	case !sent:
		return s.putCardAlone(ctx, c) // closed: it meets the closed pool's error
	}
	res := <-r.done
	return res.applied, res.err
}

func (s *Store) putCardAlone(ctx context.Context, c bot.CardMessage) (bool, error) {
	tag, err := s.pool.Exec(ctx, sqlPutCard, putCardArgs(c)...)
	return err == nil && tag.RowsAffected() == 1, err
}

func putCardArgs(c bot.CardMessage) []any {
	return []any{c.Platform, c.Recipient, c.Subject, c.InstanceID, c.MessageID,
		c.UpdateToken, nullTime(c.TokenExpires), c.StateVersion, c.Digest, c.SentAt, c.UpdatedAt}
}

// putCardGroup commits the upserts of group and answers every request.
func (s *Store) putCardGroup(ctx context.Context, group []*cardReq) {
	live := batch.StillWanted(group, func(r *cardReq) context.Context { return r.ctx },
		func(r *cardReq, err error) { r.done <- cardResult{err: err} })
	if len(live) == 1 {
		applied, err := s.putCardAlone(ctx, live[0].c)
		live[0].done <- cardResult{applied: applied, err: err}
		return
	}
	slices.SortStableFunc(live, func(a, b *cardReq) int {
		return cmp.Or(cmp.Compare(a.c.Platform, b.c.Platform), cmp.Compare(a.c.Recipient, b.c.Recipient),
			cmp.Compare(a.c.Subject, b.c.Subject))
	})
	applied := make([]bool, len(live))
	b := &pgx.Batch{}
	for i, r := range live {
		b.Queue(sqlPutCard, putCardArgs(r.c)...).Exec(func(tag pgconn.CommandTag) error {
			applied[i] = tag.RowsAffected() == 1
			return nil
		})
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		for _, r := range live {
			ok, err := s.putCardAlone(ctx, r.c)
			r.done <- cardResult{applied: ok, err: err}
		}
		return
	}
	for i, r := range live {
		r.done <- cardResult{applied: applied[i]}
	}
}

// Card reads in groups (see reads_group.go). Every delivery reads its card
// first (is it shown already, on which message, at which state), inside
// the card's lock; a burst of deliveries reads many.

// sqlCards reads the cards recorded under a list of keys (cardColumns),
// one index scan each (see the package comment).
const sqlCards = `SELECT c.* FROM unnest($1::text[], $2::text[], $3::text[]) AS k(platform, recipient, subject)
	CROSS JOIN LATERAL (SELECT ` + cardColumns + ` FROM bot_cards WHERE platform = k.platform AND recipient = k.recipient
		AND subject = k.subject OFFSET 0) AS c`

// newCardReads reads cards alone or many at once; a key with no card is
// bot.ErrNotFound.
func (s *Store) newCardReads() *keyedReads[bot.CardKey, bot.CardMessage] {
	return newKeyedReads(keyedReads[bot.CardKey, bot.CardMessage]{alone: s.cardAlone, many: s.cardsByKey,
		key: func(c bot.CardMessage) bot.CardKey { return c.CardKey }, missing: bot.ErrNotFound},
		cardWorkers, maxCardGroup, cardTimeout)
}

// cardGrouped reads the card under k through a group.
func (s *Store) cardGrouped(ctx context.Context, k bot.CardKey) (bot.CardMessage, error) {
	return s.cardReads.read(ctx, k)
}

func (s *Store) cardAlone(ctx context.Context, k bot.CardKey) (bot.CardMessage, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+cardColumns+` FROM bot_cards
		WHERE platform = $1 AND recipient = $2 AND subject = $3`, k.Platform, k.Recipient, k.Subject)
	c, err := pgx.CollectExactlyOneRow(rows, scanCard)
	if errors.Is(err, pgx.ErrNoRows) {
		err = bot.ErrNotFound
	}
	return c, err
}

// cardsByKey reads the cards recorded under keys with one query.
func (s *Store) cardsByKey(ctx context.Context, keys []bot.CardKey) ([]bot.CardMessage, error) {
	plats, recips, subjects := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		plats[i], recips[i], subjects[i] = k.Platform, k.Recipient, k.Subject
	}
	rows, _ := s.pool.Query(ctx, sqlCards, plats, recips, subjects)
	return pgx.CollectRows(rows, scanCard)
}
