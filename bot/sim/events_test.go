package sim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/sim"
)

// sse reads a server-sent event stream.
type sse struct {
	t    *testing.T
	resp *http.Response
	r    *bufio.Reader
}

type event struct {
	id, name string
	data     map[string]any
}

// subscribe opens the event stream at path. The request ends with the
// test's deadline, so a missing event fails the test instead of hanging.
func (b *testBundle) subscribe(t *testing.T, path string, headers ...string) *sse {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", b.url+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return &sse{t: t, resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the next event, skipping comments and retry lines.
func (s *sse) next() event {
	s.t.Helper()
	var e event
	for {
		line, err := s.r.ReadString('\n')
		require.NoError(s.t, err, "the stream ended before the next event")
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if e.name != "" {
				return e
			}
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry:"):
		case strings.HasPrefix(line, "id: "):
			e.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			e.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			require.NoError(s.t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e.data), line)
		default:
			s.t.Fatalf("unexpected line %q", line)
		}
	}
}

// until returns the next event named name, skipping others.
func (s *sse) until(name string) event {
	s.t.Helper()
	for {
		if e := s.next(); e.name == name {
			return e
		}
	}
}

func TestEventsPushAddedAndUpdatedCards(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	s := b.subscribe(t, "/sim/api/events?user=qian")
	require.Equal(t, http.StatusOK, s.resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", s.resp.Header.Get("Content-Type"))
	require.Equal(t, "ready", s.next().name)

	sent, err := b.sim.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)
	e := s.until("message")
	require.Equal(t, "user:qian", e.data["inbox"])
	msg := e.data["message"].(map[string]any)
	require.Equal(t, sent.MessageID, msg["id"])
	require.Equal(t, "pending", msg["card"].(map[string]any)["status"])
	sync := s.until("sync")
	require.NotEmpty(t, sync.id, "a sync carries the revision a reconnect resumes after")

	_, err = b.sim.Update(t.Context(), reader("qian"), bot.CardMessage{MessageID: sent.MessageID}, card(2, bot.StatusApproved))
	require.NoError(t, err)
	e = s.until("message")
	msg = e.data["message"].(map[string]any)
	require.Equal(t, sent.MessageID, msg["id"])
	require.Equal(t, "approved", msg["card"].(map[string]any)["status"])
}

func TestEventsCountOtherInboxesUnread(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	s := b.subscribe(t, "/sim/api/events?user=qian")
	require.Equal(t, "ready", s.next().name)

	_, err := b.sim.Send(t.Context(), reader("sun"), card(1, bot.StatusInfo))
	require.NoError(t, err)
	e := s.until("unread")
	require.Equal(t, map[string]any{"inbox": "user:sun", "unread": float64(1)}, e.data)

	a := b.do(t, "POST", "/sim/api/read", `{"user":"sun"}`)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	e = s.until("unread")
	require.Equal(t, map[string]any{"inbox": "user:sun", "unread": float64(0)}, e.data)
}

func TestEventsResumeAfterTheLastEventID(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	first, err := b.sim.Send(t.Context(), reader("qian"), card(1, bot.StatusPending))
	require.NoError(t, err)
	a := b.do(t, "GET", "/sim/api/inbox?user=qian", "")
	rev := int64(a.body["rev"].(float64))
	missed, err := b.sim.Send(t.Context(), reader("qian"), card(1, bot.StatusInfo))
	require.NoError(t, err)
	_, err = b.sim.Update(t.Context(), reader("qian"), bot.CardMessage{MessageID: first.MessageID}, card(2, bot.StatusApproved))
	require.NoError(t, err)

	// The page read the inbox at rev, then opened the stream since it.
	s := b.subscribe(t, "/sim/api/events?user=qian&since="+itoa(rev))
	require.Equal(t, "ready", s.next().name)
	var ids []string
	e := s.next()
	for ; e.name != "sync"; e = s.next() {
		require.Equal(t, "message", e.name)
		ids = append(ids, e.data["message"].(map[string]any)["id"].(string))
	}
	require.Equal(t, []string{missed.MessageID, first.MessageID}, ids, "what changed since, in the order it changed")
	boot, synced, _ := strings.Cut(e.id, ".")
	require.Equal(t, itoa(rev+2), synced)

	// A browser reconnecting says where it was with Last-Event-ID, which wins.
	s = b.subscribe(t, "/sim/api/events?user=qian&since=0", "Last-Event-ID", boot+"."+itoa(rev+1))
	require.Equal(t, "ready", s.next().name)
	e = s.next()
	require.Equal(t, "message", e.name)
	require.Equal(t, first.MessageID, e.data["message"].(map[string]any)["id"])
	require.Equal(t, "sync", s.next().name)
}

func TestEventsAfterARestartSayReset(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	for i := range 3 {
		_, err := b.sim.Send(t.Context(), reader("qian"), card(int64(i), bot.StatusPending))
		require.NoError(t, err)
	}
	for _, tc := range []struct{ name, lastID string }{
		{"an id of another process, below this one's revision", "0a1b2c.1"},
		{"an id without a process", "2"},
		{"a revision this process has not reached", "/since=999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, headers := "/sim/api/events?user=qian", []string{"Last-Event-ID", tc.lastID}
			if since, ok := strings.CutPrefix(tc.lastID, "/"); ok {
				path, headers = path+"&"+since, nil
			}
			s := b.subscribe(t, path, headers...)
			require.Equal(t, "ready", s.next().name)
			require.Equal(t, "reset", s.next().name)
		})
	}
}

func TestCloseEndsTheStreams(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	s := b.subscribe(t, "/sim/api/events")
	require.Equal(t, "ready", s.next().name)
	require.NoError(t, b.sim.Close())
	_, err := s.r.ReadString('\n')
	for err == nil {
		_, err = s.r.ReadString('\n')
	}
	require.ErrorContains(t, err, "EOF")
}

func TestBadEventRequestsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, sim.Config{})
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/sim/api/events?user=ghost", 404, "unknown_user"},
		{"/sim/api/events?chat=oc_x", 404, "unknown_chat"},
		{"/sim/api/events?user=qian&since=-1", 400, "bad_request"},
		{"/sim/api/events?user=qian&since=x", 400, "bad_request"},
	} {
		a := b.do(t, "GET", tc.path, "")
		require.Equal(t, tc.status, a.status, tc.path)
		require.Equal(t, tc.code, a.errCode(), tc.path)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
