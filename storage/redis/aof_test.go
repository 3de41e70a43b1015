package redis_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"cardflow/internal/testenv"
	"cardflow/storage/redis"
)

// TestAppendOnlyOnTestRedis reads the shared test Redis's setting as
// CONFIG GET gives it (CI runs it with appendonly no). It does not change
// it: other packages' tests use that Redis at the same time.
func TestAppendOnlyOnTestRedis(t *testing.T) {
	t.Parallel()
	client := newTestClient(t)
	raw, err := client.ConfigGet(t.Context(), "appendonly").Result()
	require.NoError(t, err)
	got, err := redis.AppendOnly(t.Context(), client)
	require.NoError(t, err)
	require.Equal(t, raw["appendonly"] == "yes", got)
}

// TestAppendOnly runs Redis servers of its own, each on a unix socket in a
// temporary directory (where an append-only file may be written), in the
// configurations a deployment may have.
func TestAppendOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		acl     bool // connect as a user the ACL forbids CONFIG
		want    bool
		wantErr string
	}{
		{name: "persistent", args: []string{"--appendonly", "yes"}, want: true},
		{name: "not persistent", args: []string{"--appendonly", "no"}, want: false},
		{name: "CONFIG renamed away, as managed Redis does", args: []string{"--rename-command", "CONFIG", ""},
			wantErr: "redis: cannot read the server's configuration: CONFIG GET appendonly: ERR unknown command 'config'"},
		{name: "CONFIG forbidden by the ACL", acl: true,
			wantErr: "redis: cannot read the server's configuration: CONFIG GET appendonly: NOPERM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := startRedisServer(t, tt.args...)
			if tt.acl {
				admin := goredis.NewClient(opts)
				defer admin.Close()
				require.NoError(t, admin.Do(t.Context(), "ACL", "SETUSER", "cardflow", "on", ">cardflow-pw",
					"~*", "&*", "+@all", "-config").Err())
				opts.Username, opts.Password = "cardflow", "cardflow-pw"
			}
			client := goredis.NewClient(opts)
			defer client.Close()
			got, err := redis.AppendOnly(t.Context(), client)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, redis.ErrCannotCheck)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)

			q, err := redis.NewQueue(client, redis.QueueOptions{})
			require.NoError(t, err)
			got, err = q.AppendOnly(t.Context())
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "the queue asks its own client")
		})
	}
}

// TestAppendOnlyUnreachable: a Redis that cannot be reached is not
// "cannot check": that error is the connection's.
func TestAppendOnlyUnreachable(t *testing.T) {
	t.Parallel()
	client := goredis.NewClient(&goredis.Options{Network: "unix", Addr: filepath.Join(t.TempDir(), "none.sock"), MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	_, err := redis.AppendOnly(t.Context(), client)
	require.Error(t, err)
	require.NotErrorIs(t, err, redis.ErrCannotCheck)
	require.ErrorContains(t, err, "redis: CONFIG GET appendonly: ")
}

// startRedisServer runs redis-server with args on a unix socket of its own
// until the test ends, and returns the options to reach it. Like the other
// service-backed tests it fails in CI when redis-server is missing, and
// skips on a developer machine.
func startRedisServer(t *testing.T, args ...string) *goredis.Options {
	t.Helper()
	bin := testenv.Program(t, "redis-server")
	// Not t.TempDir: a unix socket path must stay under ~100 bytes.
	dir, err := os.MkdirTemp("", "cardflow-redis")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, append([]string{"--port", "0", "--unixsocket", sock, "--dir", dir, "--save", ""}, args...)...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	// The signal that it accepts connections is its own log line; the lines
	// before it explain a failure to start.
	ready, exited := make(chan struct{}), make(chan string, 1)
	go func() {
		var lines strings.Builder
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines.WriteString(sc.Text() + "\n")
			if strings.Contains(strings.ToLower(sc.Text()), "ready to accept connections") {
				close(ready)
				_, _ = io.Copy(io.Discard, out) // keep the server's stdout drained
				return
			}
		}
		exited <- lines.String()
	}()
	select {
	case <-ready:
	case lines := <-exited:
		t.Fatalf("redis-server exited before it was ready:\n%s", lines)
	case <-time.After(patience):
		t.Fatalf("redis-server did not start within %s", patience)
	}
	return &goredis.Options{Network: "unix", Addr: sock}
}
