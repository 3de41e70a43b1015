package orders

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Poller pulls a shop's orders from a platform that is asked rather than
// pushing (JD's order search, Taobao's incremental sold-trades API). Poll
// returns one page of the orders changed after cursor ("" is a poller's
// own starting point), the cursor that follows that page, and whether
// another page is ready now. The cursor is the poller's own text; the loop
// keeps it in the store between polls and restarts.
type Poller interface {
	Poll(ctx context.Context, shop, cursor string) (page []Order, next string, more bool, err error)
}

// PollLoop polls one source's shops: each page's orders are stored as
// events of the source (a state seen before is a duplicate, so a page
// polled twice changes nothing), then the page's cursor is recorded, so a
// crash between the two polls the page again rather than skipping it.
type PollLoop struct {
	source string
	shops  []string
	poller Poller
	store  Store
	log    *slog.Logger
	now    func() time.Time
	// stored is told when events were stored (the router's Wake).
	stored func()
}

// NewPollLoop returns the poll loop of source over shops; now and stored
// may be nil.
func NewPollLoop(source string, shops []string, p Poller, store Store, log *slog.Logger, now func() time.Time, stored func()) *PollLoop {
	if now == nil {
		now = time.Now
	}
	if stored == nil {
		stored = func() {}
	}
	return &PollLoop{source: source, shops: shops, poller: p, store: store, log: log, now: now, stored: stored}
}

// maxPagesPerPoll bounds one poll of one shop, so a long backlog does not
// keep the other shops waiting.
const maxPagesPerPoll = 50

// PollOnce polls every shop until it has no page ready (or 50 pages), and
// returns how many new events it stored.
func (l *PollLoop) PollOnce(ctx context.Context) (int, error) {
	stored := 0
	for _, shop := range l.shops {
		cursor, err := l.store.OrderCursor(ctx, l.source, shop)
		if err != nil {
			return stored, err
		}
		for range maxPagesPerPoll {
			page, next, more, err := l.poller.Poll(ctx, shop, cursor)
			if err != nil {
				return stored, fmt.Errorf("orders: poll %s shop %s: %w", l.source, shop, err)
			}
			for _, o := range page {
				if err := o.Validate(); err != nil {
					l.log.Warn("polled order refused", "source", l.source, "shop", shop, "order", clip(o.No), "err", err)
					continue
				}
				first, _, err := l.store.IngestOrderEvent(ctx, l.source, OrderEvent(l.source, o, l.now()))
				if err != nil {
					return stored, fmt.Errorf("orders: poll %s shop %s: store %s: %w", l.source, shop, clip(o.No), err)
				}
				if first {
					stored++
				}
			}
			if next != "" && next != cursor {
				if err := l.store.SetOrderCursor(ctx, l.source, shop, next, l.now()); err != nil {
					return stored, err
				}
				cursor = next
			}
			if !more {
				break
			}
		}
	}
	if stored > 0 {
		l.stored()
	}
	return stored, nil
}

// Run polls every interval until ctx ends; a failed poll is logged and
// tried again at the next interval from the recorded cursor.
func (l *PollLoop) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := l.PollOnce(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("order poll failed; tried again at the next interval", "source", l.source, "err", err)
		} else if n > 0 {
			l.log.Info("orders polled", "source", l.source, "new_events", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
