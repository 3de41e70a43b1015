package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cardflow/bot"
)

// Card records in groups. Every delivery ends in PutCard, so a burst of
// deliveries would cost a commit each; instead PutCard hands its upsert to
// the batches workers (batches.go), which send the upserts waiting as one
// pipelined batch — one implicit transaction, one commit — ordered by card
// key, so two groups lock rows in one order. Each upsert is its own
// compare-and-set and none depends on another, so when the batch fails,
// nothing of it was written and each goes again alone, meeting its own
// error if it has one.
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
	sent, err := s.cards.send(ctx, r)
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
	live := make([]*cardReq, 0, len(group))
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.done <- cardResult{err: err} // gone before its group began: nothing written
			continue
		}
		live = append(live, r)
	}
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
