package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxReadStatements bounds the statements readPool keeps prepared. The
// store's reads are a few dozen texts (the filters of the list calls make
// a handful each); a text past the bound is run unprepared.
const maxReadStatements = 256

// readPool is the read-only pool with its statements prepared once: SQLite
// parses a statement in about the time it takes to run a small one, and a
// card delivery reads several. database/sql prepares a statement again on
// each connection that runs it, and keeps it there.
type readPool struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newReadPool(db *sql.DB) *readPool {
	return &readPool{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns query prepared, or nil when it is not to be kept or does
// not prepare (the unprepared call then reports why). It prepares without
// the lock, which a first preparation waiting for a connection would
// otherwise hold against every reader; of two that race, one is kept.
func (p *readPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.Lock()
	st, ok := p.stmts[query]
	full := len(p.stmts) >= maxReadStatements
	p.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept, ok := p.stmts[query]; ok {
		_ = st.Close()
		return kept
	}
	p.stmts[query] = st
	return st
}

func (p *readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p *readPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

// Close closes the statements, then the pool.
func (p *readPool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := closeStmts(p.stmts)
	p.stmts = map[string]*sql.Stmt{}
	if cerr := p.db.Close(); err == nil {
		err = cerr
	}
	return err
}
