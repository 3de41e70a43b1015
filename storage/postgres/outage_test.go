package postgres

import (
	"context"
	"crypto/rand"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/internal/testenv"
	"cardflow/storage/postgres/pgtest"
	"cardflow/storage/storetest"
)

// outageStore is a migrated store whose connections go through a TCP proxy
// the test can cut, and the direct DSN of the same schema.
type outageStore struct {
	*Store
	proxy  *testenv.Proxy
	direct string
	app    string // application_name of the proxied connections
}

func openOutageStore(t *testing.T) outageStore {
	t.Helper()
	direct := pgtest.SchemaDSN(t)
	_, err := Migrate(t.Context(), direct)
	require.NoError(t, err)
	u, err := url.Parse(direct)
	require.NoError(t, err)
	px := testenv.StartProxy(t, u.Host)
	u.Host = px.Addr
	app := "cf_outage_" + strings.ToLower(rand.Text()[:10])
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	s, err := Open(t.Context(), u.String(), Options{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return outageStore{Store: s, proxy: px, direct: direct, app: app}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	dsn := "postgres://u@127.0.0.1:" + strconv.Itoa(unusedPort(t)) + "/db?sslmode=disable"
	_, err := Open(t.Context(), dsn, Options{})
	require.ErrorIs(t, err, flows.ErrUnavailable)
	storetest.RequireWrappedOnce(t, err)
}

// TestDatabaseGoneIsUnavailable cuts the network between a working store and
// its database: every method then fails with flows.ErrUnavailable (the API's
// 503), both on pooled connections the cut closed and on the new ones it
// refuses; once the database is back the same store serves again.
func TestDatabaseGoneIsUnavailable(t *testing.T) {
	t.Parallel()
	s := openOutageStore(t)
	ctx := t.Context()
	storetest.Seed(t, s, "i-1")
	// Fill the pool, so the cut finds open connections to break.
	conns := make([]*pgxpool.Conn, 0, 4)
	for range 4 {
		c, err := s.pool.Acquire(ctx)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}

	s.proxy.Cut()
	for _, c := range storetest.Calls(s) {
		err := c.Do(ctx)
		require.ErrorIs(t, err, flows.ErrUnavailable, c.Name)
		storetest.RequireWrappedOnce(t, err)
	}

	s.proxy.Restore(t)
	require.NoError(t, s.Ping(ctx))
	_, err := s.Instance(ctx, "i-1")
	require.NoError(t, err, "the store serves again once the database is back")
}

// TestConnectionLostMidApplyIsUnavailable cuts the connection while an
// Apply waits inside the database (on a row lock another session holds).
func TestConnectionLostMidApplyIsUnavailable(t *testing.T) {
	t.Parallel()
	s := openOutageStore(t)
	ctx := t.Context()
	inst := storetest.Seed(t, s, "i-1")

	blocker, err := pgx.Connect(ctx, s.direct)
	require.NoError(t, err)
	defer blocker.Close(context.WithoutCancel(ctx))
	tx, err := blocker.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	_, err = tx.Exec(ctx, `SELECT 1 FROM instances WHERE id = 'i-1' FOR UPDATE`)
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() {
		_, err := s.Apply(ctx, storetest.DecideChange(inst, "i-1-t1", "u-bob"))
		done <- err
	}()
	// The Apply is in the database once its session waits for the lock.
	require.Eventually(t, func() bool {
		var waiting bool
		err := blocker.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock')`, s.app).Scan(&waiting)
		return err == nil && waiting
	}, 30*time.Second, 10*time.Millisecond, "the Apply never waited for the lock")

	s.proxy.Cut()
	select {
	case err := <-done:
		require.ErrorIs(t, err, flows.ErrUnavailable)
		storetest.RequireWrappedOnce(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Apply did not return after its connection was cut")
	}
}
