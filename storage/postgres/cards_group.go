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

// Card reads in groups. Every delivery reads its card first (is it shown
// already, on which message, at which state), inside the card's lock; a
// burst of deliveries reads many. Card hands its read to the cardReads
// workers, which answer what waits with one query. The query starts after
// every read in it was asked for, so each sees every card record committed
// before its caller asked, as a read of its own would.
type cardReadReq struct {
	ctx  context.Context
	k    bot.CardKey
	done chan cardReadResult
}

type cardReadResult struct {
	c   bot.CardMessage
	err error // bot.ErrNotFound when no card is recorded under k
}

// sqlCards reads the cards recorded under a list of keys (cardColumns),
// one index scan each (see the package comment).
const sqlCards = `SELECT c.* FROM unnest($1::text[], $2::text[], $3::text[]) AS k(platform, recipient, subject)
	CROSS JOIN LATERAL (SELECT ` + cardColumns + ` FROM bot_cards WHERE platform = k.platform AND recipient = k.recipient
		AND subject = k.subject OFFSET 0) AS c`

// cardGrouped reads the card under k through a group.
func (s *Store) cardGrouped(ctx context.Context, k bot.CardKey) (bot.CardMessage, error) {
	r := &cardReadReq{ctx: ctx, k: k, done: make(chan cardReadResult, 1)}
	sent, err := s.cardReads.Send(ctx, r)
	switch {
	case err != nil:
		return bot.CardMessage{}, err
	case !sent:
		return s.cardAlone(ctx, k) // closed: it meets the closed pool's error
	}
	res := <-r.done
	return res.c, res.err
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

// readCardGroup answers the reads of group with one query.
func (s *Store) readCardGroup(ctx context.Context, group []*cardReadReq) {
	live := batch.StillWanted(group, func(r *cardReadReq) context.Context { return r.ctx },
		func(r *cardReadReq, err error) { r.done <- cardReadResult{err: err} })
	if len(live) == 1 {
		c, err := s.cardAlone(ctx, live[0].k)
		live[0].done <- cardReadResult{c: c, err: err}
		return
	}
	plats, recips, subjects := make([]string, len(live)), make([]string, len(live)), make([]string, len(live))
	for i, r := range live {
		plats[i], recips[i], subjects[i] = r.k.Platform, r.k.Recipient, r.k.Subject
	}
	rows, _ := s.pool.Query(ctx, sqlCards, plats, recips, subjects)
	cards, err := pgx.CollectRows(rows, scanCard)
	found := make(map[bot.CardKey]bot.CardMessage, len(cards))
	for _, c := range cards {
		found[c.CardKey] = c
	}
	for _, r := range live {
		c, ok := found[r.k]
		switch {
		case err != nil:
			r.done <- cardReadResult{err: err}
		case !ok:
			r.done <- cardReadResult{err: bot.ErrNotFound}
		default:
			r.done <- cardReadResult{c: c}
		}
	}
}
