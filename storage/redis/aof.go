package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// ErrCannotCheck says Redis would not tell its persistence settings: CONFIG
// is renamed or disabled (as managed Redis services do) or the ACL user may
// not run it.
var ErrCannotCheck = errors.New("redis: cannot read the server's configuration")

// AppendOnly reports whether the Redis server writes an append-only file
// (CONFIG GET appendonly). The outbox's at-least-once delivery needs it: the
// relay marks a message sent once Redis has it, so a Redis that restarts
// without persistence loses every message not yet consumed. The error
// wraps ErrCannotCheck when Redis refuses to say.
func AppendOnly(ctx context.Context, client goredis.UniversalClient) (bool, error) {
	vals, err := client.ConfigGet(ctx, "appendonly").Result()
	switch {
	case configRefused(err):
		return false, fmt.Errorf("%w: CONFIG GET appendonly: %v", ErrCannotCheck, err)
	case err != nil:
		return false, fmt.Errorf("redis: CONFIG GET appendonly: %w", err)
	}
	v, ok := vals["appendonly"]
	if !ok {
		// Some proxies answer CONFIG GET with an empty list.
		return false, fmt.Errorf("%w: CONFIG GET appendonly answered no value", ErrCannotCheck)
	}
	return v == "yes", nil
}

// AppendOnly reports whether the queue's Redis writes an append-only file;
// see the function AppendOnly.
func (q *Queue) AppendOnly(ctx context.Context) (bool, error) { return AppendOnly(ctx, q.client) }

// configRefused reports whether Redis answered that CONFIG may not be run:
// "ERR unknown command 'config'" when it is renamed or disabled, NOPERM
// when the ACL forbids it.
func configRefused(err error) bool {
	if err == nil || !isReply(err) {
		return false
	}
	return goredis.HasErrorPrefix(err, "NOPERM") || strings.Contains(strings.ToLower(err.Error()), "unknown command")
}
