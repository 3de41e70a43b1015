// Package postgres is the production flow store: flows.Store on PostgreSQL
// through a pgx v5 connection pool, with its schema in embedded migrations.
//
// Apply sends every statement of a change as one pipelined pgx.Batch with no
// explicit BEGIN: PostgreSQL runs the statements up to the batch's Sync as one
// implicit transaction, so a change costs one round trip and a failing
// statement (a stale version, a task in the wrong status, a replayed
// idempotency key) rolls the whole change back. Changes that arrive
// together go in one such batch, one transaction and one commit for the
// group, and a change that fails is answered alone while the others go
// again (apply_group.go).
//
// A group looks its keys up with one statement, written as
//
//	FROM unnest($1, $2) AS k(a, b) CROSS JOIN LATERAL (SELECT … WHERE a = k.a AND b = k.b OFFSET 0)
//
// and not as a join of the table with unnest: the OFFSET 0 keeps the planner
// from flattening the subquery into a join it may plan as a hash join over
// a sequential scan. Such a plan is what PostgreSQL caches for a prepared
// statement first run on a table that is still small and never analysed (a
// new installation, a benchmark): measured on the order events, every group
// then read the whole table, 12 million rows read for 21,000 events. The
// lateral form can only run as one index scan per key.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"cardflow/bot"
	"cardflow/flows"
	"cardflow/storage/internal/batch"
)

// Options tune Open.
type Options struct {
	// MaxConns caps the pool; 0 keeps pgxpool's default (the greater of 4
	// and the number of CPUs).
	MaxConns int32
	// Migrate runs the embedded migrations before the store is returned, as
	// `cardflow serve` does at start-up; concurrent starters are serialised
	// by an advisory lock.
	Migrate bool
	// IngestAlone records every order event in a transaction of its own
	// instead of grouping those that arrive together (orders_group.go):
	// the benchmark's baseline.
	IngestAlone bool
	// ApplyAlone commits every change in a transaction of its own instead
	// of grouping those that arrive together (apply_group.go): the
	// benchmarks' baseline.
	ApplyAlone bool
}

// Store is a flows.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// ingests records order events that arrive together in one
	// transaction (orders_group.go); applies commits changes that arrive
	// together in one (apply_group.go).
	ingests       *batch.Batches[*ingestReq]
	applies       *batch.Batches[*applyReq]
	cards         *batch.Batches[*cardReq]                  // card records (cards_group.go)
	cardReads     *keyedReads[bot.CardKey, bot.CardMessage] // card reads (cards_group.go)
	instanceReads *keyedReads[string, flows.Instance]       // instance reads (instances_group.go)
	alone         bool
	applyAlone    bool
}

var _ flows.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or key=value
// string; a search_path parameter selects the schema), optionally migrates
// it, and checks that it is reachable. Errors name the host, port, database
// and user, never the password.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", errBadDSN)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// Times come back in UTC whatever the session's TimeZone, so a value
	// reads the same on every server and in every test. A json or jsonb
	// column read into a json.RawMessage is taken as it is: the database
	// checked it is JSON when it was written (see unmarshalJSON).
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		m := conn.TypeMap()
		m.RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		m.RegisterType(&pgtype.Type{Name: "json", OID: pgtype.JSONOID,
			Codec: &pgtype.JSONCodec{Marshal: json.Marshal, Unmarshal: unmarshalJSON}})
		m.RegisterType(&pgtype.Type{Name: "jsonb", OID: pgtype.JSONBOID,
			Codec: &pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: unmarshalJSON}})
		return nil
	}
	if opts.Migrate {
		if _, err := migrate(ctx, cfg.ConnConfig); err != nil {
			return nil, err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, connectError("open", cfg.ConnConfig.Config, err)
	}
	// pgxpool connects lazily; ping now so a wrong DSN fails at start-up
	// rather than on the first callback.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, connectError("open", cfg.ConnConfig.Config, err)
	}
	s := &Store{pool: pool, alone: opts.IngestAlone, applyAlone: opts.ApplyAlone}
	s.ingests = batch.New(ingestWorkers, maxIngestGroup, ingestTimeout, s.recordGroup)
	s.applies = batch.New(applyWorkers, maxApplyGroup, applyTimeout, s.applyGroup)
	s.cards = batch.New(cardWorkers, maxCardGroup, cardTimeout, s.putCardGroup)
	s.cardReads = s.newCardReads()
	s.instanceReads = s.newInstanceReads()
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return connectError("ping", s.pool.Config().ConnConfig.Config, err)
	}
	return nil
}

// Close waits for borrowed connections to return and closes the pool.
func (s *Store) Close() error {
	s.ingests.Close()
	s.applies.Close()
	s.cards.Close()
	s.cardReads.close()
	s.instanceReads.close()
	s.pool.Close()
	return nil
}

// unmarshalJSON is the json and jsonb columns' decoder. Into a
// json.RawMessage it copies the column's text: the database accepts only
// valid JSON into those columns, and encoding/json would check every byte
// again (the relay reads every notification this way, a decision reads an
// instance's form and state). Anything else goes through encoding/json.
func unmarshalJSON(data []byte, v any) error {
	if raw, ok := v.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], data...)
		return nil
	}
	return json.Unmarshal(data, v)
}

// connectError describes a failed connection by its target (host, port,
// database, user) and removes the password from the driver's message, so
// the error can be logged and shown to an operator. A database that does not
// answer makes it wrap flows.ErrUnavailable.
func connectError(op string, cfg pgconn.Config, err error) error {
	return fail(redact(err, cfg.Password), "%s: connect to host=%s port=%d database=%s user=%s",
		op, cfg.Host, cfg.Port, cfg.Database, cfg.User)
}

// redactedError carries an error whose message had a secret cut out; it
// still unwraps to the original so errors.Is works on, say, a cancelled
// context.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes secret from err's message. pgx does not put passwords in
// its errors today; this keeps it so if a driver message ever echoes one.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "xxxxx"), err: err}
}

// errBadDSN replaces a DSN parse error, whose text may quote the raw DSN
// (url.Parse's errors do) and so its password: a malformed DSN cannot be
// redacted reliably, so nothing of it is shown.
var errBadDSN = errors.New("the DSN does not parse (it is not shown because it may hold a password)")
