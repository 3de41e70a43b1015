// Package bottest holds what the chat platforms' tests share: a log that
// tests can read, and the check that a failure leaks no secret.
package bottest

import (
	"bytes"
	"log/slog"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Log is a JSON slog logger at debug level whose output a test can read.
// It is safe for concurrent use.
type Log struct {
	*slog.Logger
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewLog returns an empty Log.
func NewLog() *Log {
	l := &Log{}
	l.Logger = slog.New(slog.NewJSONHandler(lockedWriter{l}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return l
}

// String is everything logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type lockedWriter struct{ l *Log }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(p)
}

// AssertNoLeak fails the test when any secret (an app secret, an access
// token, a signing key, a robot's webhook token) appears in err's text or
// in the log, in clear or in the forms an HTTP client would print it
// (query-escaped). Each platform's tests force failures (a token refused,
// a 5xx, a bad signature) and call it on what came out.
func AssertNoLeak(t testing.TB, secrets []string, err error, log string) {
	t.Helper()
	texts := map[string]string{"log": log}
	if err != nil {
		texts["error"] = err.Error()
	}
	for _, s := range secrets {
		require.GreaterOrEqual(t, len(s), 6, "a secret to look for is at least 6 characters, or it matches by chance")
		for where, text := range texts {
			for _, form := range []string{s, url.QueryEscape(s)} {
				require.NotContains(t, text, form, "the %s shows a secret", where)
			}
		}
	}
}
