package outbox

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Pruner is the part of the flow store the prune loop deletes through. Each
// call deletes one batch of at most limit rows older than before, oldest
// first, and reports how many it deleted.
type Pruner interface {
	// PruneSentOutbox deletes outbox messages marked sent before before;
	// it never deletes an unsent one.
	PruneSentOutbox(ctx context.Context, before time.Time, limit int) (int, error)
	// PruneIdempotency deletes idempotency keys recorded before before.
	PruneIdempotency(ctx context.Context, before time.Time, limit int) (int, error)
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// PruneLeaseName is the store lease that lets one instance at a time prune.
const PruneLeaseName = "prune"

// PruneOptions tune a PruneLoop. Zero values take the defaults.
type PruneOptions struct {
	Holder string // lease holder name; default a random one
	// Interval is the time between passes; default 10m.
	Interval time.Duration
	// OutboxRetention is how long a sent outbox message is kept after it
	// was sent, as the history of what was notified; default 7 days.
	OutboxRetention time.Duration
	// IdempotencyRetention is how long an idempotency key is kept: a retry
	// within it gets the first answer, a later one is applied anew; default
	// 7 days.
	IdempotencyRetention time.Duration
	// BatchSize bounds the rows one statement deletes, and so how long it
	// holds its locks and how much WAL one commit writes; default 1000.
	BatchSize int
	// Tables are further tables pruned by age in the same pass, under the
	// same lease: what other packages' stores add a row to per event (the
	// chat platforms' answered callbacks).
	Tables     []PruneTable
	Logger     *slog.Logger
	Registerer prometheus.Registerer // optional
	Now        func() time.Time
	// OnPass, when set, is called after every pass with its result (tests
	// wait on it).
	OnPass func(PruneResult, error)
	// OnBatch, when set, is called after every batch with the table and
	// the rows deleted from it so far in this pass (cardflow prune shows
	// progress through a first pass over months of rows).
	OnBatch func(table string, deleted int)
}

// PruneTable is a table pruned by age: Prune deletes up to limit rows older
// than before and says how many it deleted (fewer than limit: none left).
type PruneTable struct {
	Name      string
	Retention time.Duration
	Prune     func(ctx context.Context, before time.Time, limit int) (int, error)
	// BatchSize, when set, is the limit of this table's batches instead of
	// PruneOptions.BatchSize: a batch that deletes more than a row per unit
	// (an instance with its tasks and audit) is kept smaller.
	BatchSize int
}

// PruneResult is what one pass deleted.
type PruneResult struct {
	Outbox      int // sent outbox messages
	Idempotency int // idempotency keys
	// Tables counts the rows deleted from each of PruneOptions.Tables.
	Tables map[string]int
	// Skipped is true when another instance holds the lease.
	Skipped bool
}

// PruneLoop deletes sent outbox messages and idempotency keys once they are
// older than their retention; without it both tables grow by a row or more
// per commit forever. The idempotency keys are pruned here too because they
// are the other table every commit adds to, and the same lease and loop
// serve both.
type PruneLoop struct {
	store Pruner
	opts  PruneOptions
	// leaseTTL outlives an interval, so the holder keeps the lease from pass
	// to pass and the other instances' passes find it taken.
	leaseTTL   time.Duration
	leaseUntil time.Time

	pruned   *prometheus.CounterVec
	failures prometheus.Counter
}

// NewPruneLoop returns a prune loop over store; call Run to start it.
func NewPruneLoop(store Pruner, opts PruneOptions) *PruneLoop {
	if opts.Holder == "" {
		opts.Holder = "prune-" + rand.Text()
	}
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Minute
	}
	if opts.OutboxRetention <= 0 {
		opts.OutboxRetention = 7 * 24 * time.Hour
	}
	if opts.IdempotencyRetention <= 0 {
		opts.IdempotencyRetention = 7 * 24 * time.Hour
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &PruneLoop{
		store:    store,
		opts:     opts,
		leaseTTL: 2*opts.Interval + time.Minute,
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardflow_pruned_rows_total",
			Help: "Rows deleted by pruning, by table: sent outbox messages, expired idempotency keys, and the tables of PruneOptions.Tables (answered callbacks, card records, finished instances).",
		}, []string{"table"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cardflow_prune_failures_total",
			Help: "Prune passes that failed; the next interval tries again.",
		}),
	}
	// Both series exist from the start, so a rate over them reads 0 rather
	// than nothing before the first deletion.
	l.pruned.WithLabelValues("outbox")
	l.pruned.WithLabelValues("idempotency")
	for _, t := range opts.Tables {
		l.pruned.WithLabelValues(t.Name)
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(l.pruned, l.failures)
	}
	return l
}

// Run prunes once at start and then every interval until ctx is cancelled;
// then it gives up its lease and returns nil. A failed pass is logged and
// tried again at the next interval.
func (l *PruneLoop) Run(ctx context.Context) error {
	ticker := time.NewTicker(l.opts.Interval)
	defer ticker.Stop()
	for {
		res, err := l.Prune(ctx)
		if ctx.Err() != nil {
			l.release()
			return nil
		}
		l.report(res, err)
		select {
		case <-ctx.Done():
			l.release()
			return nil
		case <-ticker.C:
		}
	}
}

// Once runs one pass, as Run's first, and gives the lease back, so the
// servers' next pass is not held up: for a command that prunes and exits
// (cardflow prune). Unlike Run it neither logs the pass nor calls OnPass;
// the caller has the result.
func (l *PruneLoop) Once(ctx context.Context) (PruneResult, error) {
	res, err := l.Prune(ctx)
	l.release()
	return res, err
}

// Prune runs one pass if this loop holds (or can take) the prune lease: it
// deletes batches of sent outbox messages, then of idempotency keys, each
// until a batch comes back short, so a pass ends with nothing left that is
// older than the retention.
func (l *PruneLoop) Prune(ctx context.Context) (PruneResult, error) {
	held, err := l.holdLease(ctx)
	if err != nil || !held {
		return PruneResult{Skipped: err == nil}, err
	}
	now := l.opts.Now()
	var res PruneResult
	res.Outbox, err = l.drain(ctx, "outbox", l.store.PruneSentOutbox, now.Add(-l.opts.OutboxRetention), l.opts.BatchSize)
	if err != nil {
		return res, err
	}
	res.Idempotency, err = l.drain(ctx, "idempotency", l.store.PruneIdempotency, now.Add(-l.opts.IdempotencyRetention),
		l.opts.BatchSize)
	for _, t := range l.opts.Tables {
		if err != nil {
			break
		}
		if res.Tables == nil {
			res.Tables = map[string]int{}
		}
		res.Tables[t.Name], err = l.drain(ctx, t.Name, t.Prune, now.Add(-t.Retention), cmp.Or(t.BatchSize, l.opts.BatchSize))
	}
	return res, err
}

type pruneFunc func(ctx context.Context, before time.Time, limit int) (int, error)

// drain deletes batches older than before until one comes back short.
// Between batches it renews the lease, so a pass that outlasts it (a first
// pass over months of rows) still runs alone.
func (l *PruneLoop) drain(ctx context.Context, table string, prune pruneFunc, before time.Time, limit int) (int, error) {
	total := 0
	for {
		n, err := prune(ctx, before, limit)
		total += n
		l.pruned.WithLabelValues(table).Add(float64(n))
		if l.opts.OnBatch != nil {
			l.opts.OnBatch(table, total)
		}
		if err != nil {
			return total, fmt.Errorf("outbox: prune %s: %w", table, err)
		}
		if n < limit {
			return total, nil
		}
		held, err := l.holdLease(ctx)
		if err != nil {
			return total, err
		}
		if !held {
			return total, fmt.Errorf("outbox: prune %s: lost the %q lease mid-pass", table, PruneLeaseName)
		}
	}
}

func (l *PruneLoop) report(res PruneResult, err error) {
	log := l.opts.Logger
	switch {
	case err != nil:
		l.failures.Inc()
		log.Warn("prune pass failed", "err", err, "outbox_rows", res.Outbox, "idempotency_keys", res.Idempotency,
			"retry_in", l.opts.Interval)
	case res.Skipped:
		log.Debug("prune pass skipped: another instance holds the lease")
	case res.Outbox+res.Idempotency+sum(res.Tables) > 0:
		log.Info("pruned", "outbox_rows", res.Outbox, "idempotency_keys", res.Idempotency, "other_tables", res.Tables,
			"outbox_retention", l.opts.OutboxRetention, "idempotency_retention", l.opts.IdempotencyRetention)
	default:
		log.Debug("prune pass found nothing to delete")
	}
	if l.opts.OnPass != nil {
		l.opts.OnPass(res, err)
	}
}

// holdLease takes or renews the prune lease once half of it has run out.
func (l *PruneLoop) holdLease(ctx context.Context) (bool, error) {
	now := l.opts.Now()
	if !l.leaseUntil.IsZero() && now.Before(l.leaseUntil.Add(-l.leaseTTL/2)) {
		return true, nil
	}
	ok, err := l.store.AcquireLease(ctx, PruneLeaseName, l.opts.Holder, now, l.leaseTTL)
	if err != nil || !ok {
		l.leaseUntil = time.Time{}
		if err != nil {
			return false, fmt.Errorf("outbox: acquire the %q lease: %w", PruneLeaseName, err)
		}
		return false, nil
	}
	l.leaseUntil = now.Add(l.leaseTTL)
	return true, nil
}

func (l *PruneLoop) release() {
	if l.leaseUntil.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.store.ReleaseLease(ctx, PruneLeaseName, l.opts.Holder); err != nil {
		l.opts.Logger.Warn("prune: release lease", "err", err)
	}
	l.leaseUntil = time.Time{}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
