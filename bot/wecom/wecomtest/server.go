// Package wecomtest is a local fake of WeCom for tests: an httptest server
// speaking WeCom's wire format (gettoken, message/send with template
// cards and texts, update_template_card with single-use response codes, group robot
// webhooks), recording what it got, failing on demand, and firing signed
// and encrypted callbacks (clicks, messages, the URL check, smart robot
// messages) at a server the way WeCom does.
package wecomtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"cardflow/bot/wecom"
)

// Credentials of the fake's app; tests put them in config.WeComConfig.
const (
	CorpID         = "ww-fake-corp"
	AgentID        = 1000002
	Secret         = "fake-corp-secret-0123456789"
	Token          = "fakeCallbackToken"
	EncodingAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	// BotToken and BotEncodingAESKey are the smart robot's.
	BotToken          = "fakeBotToken"
	BotEncodingAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// codeLife is how long a response code works.
const codeLife = 72 * time.Hour

// Message is a card message the fake holds: as sent, and every update.
type Message struct {
	TaskID string
	User   string
	// Card is the card as it stands; Updates are the cards updates
	// brought, in order.
	Card    wecom.TemplateCard
	Updates []wecom.TemplateCard
}

// Server is the fake. Its fields are read-only after New.
type Server struct {
	*httptest.Server
	crypto    *wecom.Crypto
	botCrypto *wecom.Crypto

	mu       sync.Mutex
	now      func() time.Time
	seq      int
	token    string
	expired  map[string]bool
	fetches  int
	messages map[string]*Message
	order    []string
	texts    map[string][]string
	codes    map[string]*code
	refused  int
	robots   map[string][]robotPost
	failures map[string][]Failure
	changed  chan struct{}
}

type code struct {
	taskID  string
	expires time.Time
	used    bool
}

type robotPost struct {
	at      time.Time
	content string
}

// Failure is an answer the fake gives instead of the next call to a path:
// an errcode (42001, 40014, 45009…) or an HTTP status.
type Failure struct {
	ErrCode int
	Status  int
}

// New starts a fake, stopped at the test's end.
func New(t testing.TB) *Server {
	s := &Server{now: time.Now, expired: map[string]bool{}, messages: map[string]*Message{}, texts: map[string][]string{}, codes: map[string]*code{},
		robots: map[string][]robotPost{}, failures: map[string][]Failure{}, changed: make(chan struct{})}
	var err error
	if s.crypto, err = wecom.NewCrypto(Token, EncodingAESKey, CorpID); err != nil {
		t.Fatal(err)
	}
	if s.botCrypto, err = wecom.NewCrypto(BotToken, BotEncodingAESKey, ""); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/gettoken", s.gettoken)
	mux.HandleFunc("POST /cgi-bin/message/send", s.withToken(s.send))
	mux.HandleFunc("POST /cgi-bin/message/update_template_card", s.withToken(s.update))
	mux.HandleFunc("POST /cgi-bin/webhook/send", s.webhook)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// SetNow sets the fake's clock (for response code expiry, robot limits and
// callback timestamps).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// FailNext makes the next call to path (/cgi-bin/message/send…) fail so.
// An errcode of 42001 or 40014 also drops the token, as WeCom does.
func (s *Server) FailNext(path string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[path] = append(s.failures[path], f)
}

// ExpireToken makes the current token answer 42001 from now on.
func (s *Server) ExpireToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" {
		s.expired[s.token] = true
		s.token = ""
	}
}

// TokenFetches says how often gettoken was called.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Messages returns a copy of the card messages, in the order sent.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.order))
	for _, id := range s.order {
		m := *s.messages[id]
		m.Updates = append([]wecom.TemplateCard(nil), m.Updates...)
		out = append(out, m)
	}
	return out
}

// RobotPosts returns what the robot with key posted, in order.
func (s *Server) RobotPosts(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.robots[key] {
		out = append(out, p.content)
	}
	return out
}

// Wait returns once ok holds, checking again at every change the fake
// records; it fails when ctx ends first.
func (s *Server) Wait(ctx context.Context, ok func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if ok() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wecomtest: the awaited state never came: %w", ctx.Err())
		}
	}
}

// WaitMessage waits for a message for which ok holds and returns it.
func (s *Server) WaitMessage(ctx context.Context, ok func(Message) bool) (Message, error) {
	var found Message
	err := s.Wait(ctx, func() bool {
		for _, m := range s.Messages() {
			if ok(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, err
}

// notify wakes waiters; s.mu is held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// failure takes the failure queued for path; s.mu is held.
func (s *Server) failure(path string) (Failure, bool) {
	f := s.failures[path]
	if len(f) == 0 {
		return Failure{}, false
	}
	s.failures[path] = f[1:]
	if f[0].ErrCode == 42001 || f[0].ErrCode == 40014 {
		s.expired[s.token] = true
		s.token = ""
	}
	return f[0], true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func errcode(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, http.StatusOK, map[string]any{"errcode": code, "errmsg": msg})
}

func (s *Server) answerFailure(w http.ResponseWriter, f Failure) {
	if f.Status != 0 {
		http.Error(w, http.StatusText(f.Status), f.Status)
		return
	}
	errcode(w, f.ErrCode, "injected failure "+strconv.Itoa(f.ErrCode))
}

func (s *Server) gettoken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	s.notify()
	if f, ok := s.failure(r.URL.Path); ok {
		s.answerFailure(w, f)
		return
	}
	q := r.URL.Query()
	if q.Get("corpid") != CorpID || q.Get("corpsecret") != Secret {
		errcode(w, 40001, "invalid credential")
		return
	}
	if s.token == "" {
		s.seq++
		s.token = "wc-fake-token-" + strconv.Itoa(s.seq)
	}
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": s.token, "expires_in": 7200})
}

// withToken checks the access token (41001 missing, 42001 expired, 40014
// unknown) and injected failures, then runs h with s.mu held.
func (s *Server) withToken(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		tok := r.URL.Query().Get("access_token")
		switch {
		case tok == "":
			errcode(w, 41001, "access_token missing")
		case s.expired[tok]:
			errcode(w, 42001, "access_token expired")
		case tok != s.token:
			errcode(w, 40014, "invalid access_token")
		default:
			if f, ok := s.failure(r.URL.Path); ok {
				s.answerFailure(w, f)
				return
			}
			h(w, r)
		}
	}
}
