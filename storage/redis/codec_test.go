package redis

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

func TestNetstrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		n       int
		want    []string
		wantErr bool
	}{
		{name: "parts", in: "1:a,0:,3:b:c,", n: 3, want: []string{"a", "", "b:c"}},
		{name: "wrong count", in: "1:a,", n: 2, wantErr: true},
		{name: "length past the end", in: "9:a,", n: 1, wantErr: true},
		{name: "missing comma", in: "1:ab", n: 1, wantErr: true},
		{name: "no colon", in: "12", n: 1, wantErr: true},
		{name: "negative length", in: "-1:,", n: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := splitNetstrings(tt.in, tt.n)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDeadLetterRoundTrip(t *testing.T) {
	t.Parallel()
	m := queue.Message{ID: "id,1:", Key: "", Payload: []byte{0, 0xff, ',', ':', '9'}, Attempt: 3}
	at := time.UnixMilli(1_740_000_000_123)
	dl, err := decodeDeadLetter(deadLetterElem(m, "boom: 5, said the server", at))
	require.NoError(t, err)
	require.Equal(t, m, dl.Message)
	require.Equal(t, "boom: 5, said the server", dl.Error)
	require.True(t, at.Equal(dl.FailedAt))
}

func TestRetryMemberLayout(t *testing.T) {
	t.Parallel()
	m := queue.Message{ID: "x", Key: "k", Payload: []byte("p,1:"), Attempt: 1}
	f, err := splitNetstrings(retryMember("1-0", m, 2, 3), 6)
	require.NoError(t, err)
	require.Equal(t, []string{"1-0", "x", "k", "p,1:", "2", "3"}, f, "the layout promoteScript reads")
}

func TestDueMillisNeverEarly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		want int64
	}{
		{name: "whole millisecond", at: time.UnixMilli(1_740_000_000_123), want: 1_740_000_000_123},
		{name: "a nanosecond past rounds up", at: time.UnixMilli(1_740_000_000_123).Add(time.Nanosecond), want: 1_740_000_000_124},
		{name: "far future does not overflow", at: time.Date(2400, 1, 1, 0, 0, 0, 1, time.UTC), want: time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, dueMillis(tt.at))
		})
	}
}

func TestDecodeEntry(t *testing.T) {
	t.Parallel()
	good := map[string]any{"i": "id", "k": "key", "p": "payload", "a": "2"}
	limited := map[string]any{"i": "id", "k": "key", "p": "payload", "a": "2", "r": "7"}
	tests := []struct {
		name        string
		values      map[string]any
		want        queue.Message
		wantLimited int
		wantErr     bool
	}{
		{name: "complete", values: good, want: queue.Message{ID: "id", Key: "key", Payload: []byte("payload"), Attempt: 2}},
		{name: "rate-limited count", values: limited, want: queue.Message{ID: "id", Key: "key", Payload: []byte("payload"), Attempt: 2}, wantLimited: 7},
		{name: "missing field", values: map[string]any{"i": "id", "k": "key", "a": "1"}, wantErr: true},
		{name: "bad attempt", values: map[string]any{"i": "id", "k": "key", "p": "", "a": "zero"}, wantErr: true},
		{name: "attempt below one", values: map[string]any{"i": "id", "k": "key", "p": "", "a": "0"}, wantErr: true},
		{name: "bad rate-limited count", values: map[string]any{"i": "id", "k": "key", "p": "", "a": "1", "r": "-1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, gotLimited, err := decodeEntry(goredis.XMessage{ID: "1-0", Values: tt.values})
			if tt.wantErr {
				require.ErrorContains(t, err, "malformed queue entry")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantLimited, gotLimited)
		})
	}
}
