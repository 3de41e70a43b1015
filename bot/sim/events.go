package sim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// events streams an inbox's changes to the page as server-sent events:
//
//	event: ready    data {"rev"}             once, when the stream starts
//	event: reset    data {"rev"}             the simulator restarted since "since": reload
//	event: message  data {"inbox","message"} a message of the watched inbox was added or changed
//	event: unread   data {"inbox","unread"}  another inbox changed: its unread count
//	event: sync     data {"rev"}             every change up to rev was sent
//
// Every sync carries the revision as its event id, so a browser that
// reconnects (EventSource does by itself) sends it as Last-Event-ID and
// gets exactly what it missed, or a reset after a restart. Without user and chat the stream carries
// only the unread counts.
func (p *Platform) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := ""
	if q.Get("user") != "" || q.Get("chat") != "" {
		var ok bool
		if key, ok = p.target(w, r, q.Get("user"), q.Get("chat")); !ok {
			return
		}
	}
	since, restarted, ok := p.sinceOf(r)
	if !ok {
		p.fail(w, r, http.StatusBadRequest, "bad_request", msgBadSince)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout, if it has one
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)

	s := &stream{w: w, rc: rc}
	p.mu.Lock()
	rev := p.rev
	p.mu.Unlock()
	s.raw("retry: 3000\n\n")
	s.event("ready", map[string]int64{"rev": rev})
	if restarted || since > rev {
		s.event("reset", map[string]int64{"rev": rev})
		since = rev
	}
	if s.flush() != nil {
		return
	}
	heartbeat := time.NewTicker(p.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		changed := p.Changed()
		if since = p.sendChanges(s, key, since); s.flush() != nil {
			return
		}
		select {
		case <-changed:
		case <-heartbeat.C:
			s.raw(": ping\n\n")
		case <-r.Context().Done():
			return
		case <-p.closed:
			return
		}
	}
}

// sendChanges writes what changed after revision since and returns the
// revision it is up to date with.
func (p *Platform) sendChanges(s *stream, key string, since int64) int64 {
	type unread struct {
		Inbox  string `json:"inbox"`
		Unread int    `json:"unread"`
	}
	p.mu.Lock()
	rev := p.rev
	var msgs []Message
	if key != "" {
		msgs = p.messages(key, since)
	}
	var counts []unread
	for k, in := range p.inboxes {
		if k != key && in.rev > since {
			counts = append(counts, unread{k, p.unread(k)})
		}
	}
	p.mu.Unlock()
	if rev == since {
		return since
	}
	// By revision, so that a stream cut half-way resumes without a gap.
	slices.SortFunc(msgs, func(a, b Message) int { return cmp.Compare(a.Rev, b.Rev) })
	for _, m := range msgs {
		s.event("message", map[string]any{"inbox": key, "message": m})
	}
	slices.SortFunc(counts, func(a, b unread) int { return strings.Compare(a.Inbox, b.Inbox) })
	for _, c := range counts {
		s.event("unread", c)
	}
	s.raw("id: " + p.boot + "." + strconv.FormatInt(rev, 10) + "\n")
	s.event("sync", map[string]int64{"rev": rev})
	return rev
}

// sinceOf is the revision a stream starts after: the browser's
// Last-Event-ID when it reconnects, else the since parameter (the rev the
// page's inbox was read at), else 0. An event id is "<boot>.<rev>", so that
// one from before a restart is told from a revision of this process:
// restarted reports it, and the page reloads.
func (p *Platform) sinceOf(r *http.Request) (since int64, restarted, ok bool) {
	v := r.URL.Query().Get("since")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		boot, rev, found := strings.Cut(id, ".")
		if !found || boot != p.boot {
			return 0, true, true
		}
		v = rev
	}
	if v == "" {
		return 0, false, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, false, err == nil && n >= 0
}

// stream writes server-sent events; after the first failed write it
// writes nothing more, and flush reports the failure.
type stream struct {
	w   io.Writer
	rc  *http.ResponseController
	err error
}

func (s *stream) raw(text string) {
	if s.err == nil {
		_, s.err = io.WriteString(s.w, text)
	}
}

func (s *stream) event(name string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		s.err = fmt.Errorf("sim: encode %s event: %w", name, err)
		return
	}
	// JSON has no raw newlines, so one data line holds it.
	s.raw("event: " + name + "\ndata: " + string(b) + "\n\n")
}

func (s *stream) flush() error {
	if s.err == nil {
		s.err = s.rc.Flush()
	}
	return s.err
}
