package redis

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"cardflow/queue"
)

// Stream entries carry a message in four fields, and a fifth, fieldLimited,
// once a delivery of it was rate limited (absent means none was). Retries
// waiting in the delayed set and dead letters are single strings of
// netstrings ("5:hello,"), which both Go and the Lua scripts can build and
// split without a JSON library and without mangling binary payloads.
const (
	fieldID      = "i"
	fieldKey     = "k"
	fieldPayload = "p"
	fieldAttempt = "a"
	fieldLimited = "r" // deliveries that ended in queue.RateLimited
)

// streamValues are the XADD fields of a message on its attempt-th delivery.
func streamValues(m queue.Message, attempt int) []any {
	return []any{fieldID, m.ID, fieldKey, m.Key, fieldPayload, m.Payload, fieldAttempt, attempt}
}

// decodeEntry turns a stream entry back into a message and the count of its
// rate-limited deliveries. An entry missing its fields (written by something
// other than this package) is an error.
func decodeEntry(x goredis.XMessage) (queue.Message, int, error) {
	m, err := decodeMessage(x)
	if err != nil {
		return m, 0, err
	}
	limited := 0
	if v, ok := x.Values[fieldLimited]; ok {
		s, _ := v.(string)
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return m, 0, fmt.Errorf("redis: malformed queue entry %s: rate-limited count %v", x.ID, v)
		}
		limited = n
	}
	return m, limited, nil
}

func decodeMessage(x goredis.XMessage) (queue.Message, error) {
	var m queue.Message
	var ok [4]bool
	m.ID, ok[0] = x.Values[fieldID].(string)
	m.Key, ok[1] = x.Values[fieldKey].(string)
	payload, okp := x.Values[fieldPayload].(string)
	ok[2] = okp
	attempt, oka := x.Values[fieldAttempt].(string)
	ok[3] = oka
	if ok != [4]bool{true, true, true, true} {
		return m, fmt.Errorf("redis: malformed queue entry %s: fields %v", x.ID, keysOf(x.Values))
	}
	m.Payload = []byte(payload)
	n, err := strconv.Atoi(attempt)
	if err != nil || n < 1 {
		return m, fmt.Errorf("redis: malformed queue entry %s: attempt %q", x.ID, attempt)
	}
	m.Attempt = n
	return m, nil
}

func keysOf(v map[string]any) []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	return out
}

// appendNetstring appends s as a netstring.
func appendNetstring(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	b = append(b, s...)
	return append(b, ',')
}

// splitNetstrings splits a string made by appendNetstring into exactly n parts.
func splitNetstrings(s string, n int) ([]string, error) {
	out := make([]string, 0, n)
	for len(s) > 0 {
		colon := 0
		for colon < len(s) && s[colon] != ':' {
			colon++
		}
		size, err := strconv.Atoi(s[:colon])
		end := colon + 1 + size
		if err != nil || size < 0 || end >= len(s) || s[end] != ',' {
			return nil, errors.New("redis: malformed netstring")
		}
		out = append(out, s[colon+1:end])
		s = s[end+1:]
	}
	if len(out) != n {
		return nil, fmt.Errorf("redis: %d netstrings, want %d", len(out), n)
	}
	return out, nil
}

// retryMember is the delayed-set member for a message's next delivery,
// numbered nextAttempt, after limited rate-limited ones. The stream entry ID
// it came from makes the member unique, so two copies of one message
// waiting at once are not merged. promoteScript also reads members of five
// parts (no count), as written before rate limits were counted.
func retryMember(streamID string, m queue.Message, nextAttempt, limited int) string {
	b := make([]byte, 0, 56+len(m.ID)+len(m.Key)+len(m.Payload))
	for _, s := range []string{streamID, m.ID, m.Key, string(m.Payload), strconv.Itoa(nextAttempt), strconv.Itoa(limited)} {
		b = appendNetstring(b, s)
	}
	return string(b)
}

// dueMillis is t in Unix milliseconds rounded up, as promotion compares
// with the current millisecond rounded down: a retry never comes early.
func dueMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// deadLetterElem is the dead-letter list element for a message; the reclaim
// script builds the same layout.
func deadLetterElem(m queue.Message, reason string, failedAt time.Time) string {
	b := make([]byte, 0, 64+len(m.ID)+len(m.Key)+len(m.Payload)+len(reason))
	for _, s := range []string{m.ID, m.Key, string(m.Payload), strconv.Itoa(m.Attempt), reason, strconv.FormatInt(failedAt.UnixMilli(), 10)} {
		b = appendNetstring(b, s)
	}
	return string(b)
}

// decodeDeadLetter reads a dead-letter list element.
func decodeDeadLetter(elem string) (queue.DeadLetter, error) {
	f, err := splitNetstrings(elem, 6)
	if err != nil {
		return queue.DeadLetter{}, fmt.Errorf("redis: decode dead letter: %w", err)
	}
	attempt, err1 := strconv.Atoi(f[3])
	ms, err2 := strconv.ParseInt(f[5], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return queue.DeadLetter{}, fmt.Errorf("redis: decode dead letter: %w", err)
	}
	return queue.DeadLetter{
		Message:  queue.Message{ID: f[0], Key: f[1], Payload: []byte(f[2]), Attempt: attempt},
		Error:    f[4],
		FailedAt: time.UnixMilli(ms),
	}, nil
}
