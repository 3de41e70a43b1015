package postgres

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// unusedPort returns a local TCP port nothing listens on: it binds an
// ephemeral port and lets it go again.
func unusedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func TestUnreachableErrorNamesTargetButNotPassword(t *testing.T) {
	t.Parallel()
	const password = "S3cret-Pa55-do-not-print"
	port := strconv.Itoa(unusedPort(t))
	dsns := []struct {
		name string
		dsn  string
	}{
		{name: "url", dsn: "postgres://flow_user:" + password + "@127.0.0.1:" + port + "/flow_db?sslmode=disable"},
		{name: "key value", dsn: "host=127.0.0.1 port=" + port + " dbname=flow_db user=flow_user password='" + password + "' sslmode=disable"},
	}
	calls := []struct {
		name string
		call func(ctx context.Context, dsn string) error
	}{
		{name: "open", call: func(ctx context.Context, dsn string) error {
			_, err := Open(ctx, dsn, Options{})
			return err
		}},
		{name: "open and migrate", call: func(ctx context.Context, dsn string) error {
			_, err := Open(ctx, dsn, Options{Migrate: true})
			return err
		}},
		{name: "migrate", call: func(ctx context.Context, dsn string) error {
			_, err := Migrate(ctx, dsn)
			return err
		}},
	}
	for _, d := range dsns {
		for _, c := range calls {
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				err := c.call(t.Context(), d.dsn)
				require.Error(t, err)
				msg := err.Error()
				for _, want := range []string{"host=127.0.0.1", "port=" + port, "database=flow_db", "user=flow_user"} {
					require.Contains(t, msg, want)
				}
				require.NotContains(t, msg, password)
				require.NotContains(t, msg, "Pa55")
			})
		}
	}
}

func TestMalformedDSNIsNotEchoed(t *testing.T) {
	t.Parallel()
	const password = "S3cret-Pa55-do-not-print"
	tests := []struct {
		name string
		dsn  string
	}{
		{name: "bad port", dsn: "postgres://flow_user:" + password + "@127.0.0.1:notaport/flow_db"},
		{name: "bad escape", dsn: "postgres://flow_user:" + password + "%zz@127.0.0.1/flow_db"},
		{name: "unterminated quote", dsn: "host=127.0.0.1 password='" + password},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(t.Context(), tc.dsn, Options{})
			require.ErrorIs(t, err, errBadDSN)
			require.NotContains(t, err.Error(), password)
			_, err = Migrate(t.Context(), tc.dsn)
			require.ErrorIs(t, err, errBadDSN)
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cause := context.DeadlineExceeded
	tests := []struct {
		name   string
		err    error
		secret string
		want   string
	}{
		{name: "secret in message", err: fmt.Errorf("dial with pw=hunter2: %w", cause), secret: "hunter2", want: "dial with pw=xxxxx: context deadline exceeded"},
		{name: "no secret in message", err: fmt.Errorf("dial: %w", cause), secret: "hunter2", want: "dial: context deadline exceeded"},
		{name: "empty password", err: fmt.Errorf("dial: %w", cause), secret: "", want: "dial: context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := redact(tc.err, tc.secret)
			require.EqualError(t, got, tc.want)
			require.ErrorIs(t, got, cause, "redaction must keep the cause for errors.Is")
		})
	}
}

func TestPingAndClose(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, Options{MaxConns: 2})
	require.NoError(t, s.Ping(t.Context()))
	require.Equal(t, int32(2), s.pool.Config().MaxConns)
	require.NoError(t, s.Close())
	err := s.Ping(t.Context())
	require.Error(t, err, "a closed store must not answer")
	require.Contains(t, err.Error(), "postgres: ping")
}
