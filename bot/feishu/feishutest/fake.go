// Package feishutest is a fake Feishu open platform for tests: an HTTP
// server speaking Feishu's wire format (tenant token, send, reply, PATCH,
// bot info, custom group bots, and the long-connection gateway) that
// records what it got and can be told to fail, and the means to fire
// correctly signed and encrypted callbacks (clicks, messages, the URL
// check) at a server as Feishu does.
package feishutest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Keys are an app's credentials and its event subscription's secrets.
type Keys struct {
	AppID             string
	AppSecret         string
	VerificationToken string
	EncryptKey        string
}

// DefaultKeys are the credentials a fake accepts unless told others.
var DefaultKeys = Keys{AppID: "cli_fake0001", AppSecret: "fake-app-secret-0001",
	VerificationToken: "fake-verification-token", EncryptKey: "fake-encrypt-key-0001"}

// BotOpenID is the fake bot's own open_id, as /open-apis/bot/v3/info
// tells it.
const BotOpenID = "ou_bot0000000000"

// Op names a call the fake serves, for failures injected into it.
type Op string

// The calls.
const (
	OpToken   Op = "token"
	OpSend    Op = "send"
	OpReply   Op = "reply"
	OpPatch   Op = "patch"
	OpBotInfo Op = "bot_info"
	OpRobot   Op = "robot"
)

// Failure is how a call fails: the HTTP status, Feishu's code, and for a
// rate limit the seconds to wait in x-ogw-ratelimit-reset.
type Failure struct {
	Status int
	Code   int
	Msg    string
	Reset  int
}

// Common failures.
var (
	RateLimited   = Failure{Status: http.StatusTooManyRequests, Code: 99991400, Msg: "request trigger frequency limit", Reset: 7}
	ServerError   = Failure{Status: http.StatusInternalServerError, Code: 1, Msg: "internal error"}
	TokenRefused  = Failure{Status: http.StatusBadRequest, Code: 10014, Msg: "app secret invalid"}
	UserNotFound  = Failure{Status: http.StatusBadRequest, Code: 230013, Msg: "Bot has NO availability to this user."}
	ReaderTooFast = Failure{Status: http.StatusBadRequest, Code: 230020, Msg: "This operation triggers the frequency limit."}
)

// Message is a message the fake holds: a card sent to a user or a chat,
// or a reply to a message.
type Message struct {
	ID string
	// ReceiveIDType and ReceiveID are whom it went to (open_id or
	// chat_id); ReplyTo is the message a reply answers.
	ReceiveIDType string
	ReceiveID     string
	ReplyTo       string
	UUID          string
	// Card is the card it shows now; Cards every card it showed, the sent
	// one first.
	Card  json.RawMessage
	Cards []json.RawMessage
}

// Updates counts the times the message was PATCHed.
func (m Message) Updates() int { return len(m.Cards) - 1 }

// RobotPost is a post to a custom group bot.
type RobotPost struct {
	Hook string
	Card json.RawMessage
}

// Server is the fake platform. It is safe for concurrent use.
type Server struct {
	*httptest.Server
	Keys Keys

	mu       sync.Mutex
	changed  chan struct{}
	tokens   map[string]bool
	fetches  int
	seq      int
	messages []*Message
	byID     map[string]*Message
	byUUID   map[string]*Message
	failures map[Op][]Failure
	robots   map[string]string // hook id -> signing secret
	posts    []RobotPost
	calls    map[Op]int
	gateway  *gateway
}

// New starts a fake with DefaultKeys, closed at the test's end.
func New(t testing.TB) *Server {
	return NewWithKeys(t, DefaultKeys)
}

// NewWithKeys starts a fake that accepts keys.
func NewWithKeys(t testing.TB, keys Keys) *Server {
	s := &Server{Keys: keys, changed: make(chan struct{}), tokens: map[string]bool{}, byID: map[string]*Message{},
		byUUID: map[string]*Message{}, failures: map[Op][]Failure{}, robots: map[string]string{}, calls: map[Op]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", s.token)
	mux.HandleFunc("POST /open-apis/im/v1/messages", s.send)
	mux.HandleFunc("POST /open-apis/im/v1/messages/{id}/reply", s.reply)
	mux.HandleFunc("PATCH /open-apis/im/v1/messages/{id}", s.patch)
	mux.HandleFunc("GET /open-apis/bot/v3/info", s.botInfo)
	mux.HandleFunc("POST /open-apis/bot/v2/hook/{hook}", s.robot)
	s.gateway = newGateway(s)
	s.gateway.mount(mux)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.gateway.close()
		s.Close()
	})
	return s
}

// Fail makes the next calls of op fail, one failure each, in order.
func (s *Server) Fail(op Op, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[op] = append(s.failures[op], fs...)
}

// ExpireTokens makes every token handed out so far invalid, as Feishu
// does when it revokes one early: the next call with it gets 99991663.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// TokenFetches says how many tokens were handed out.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Calls says how many calls of op the fake answered (failed ones too).
func (s *Server) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Messages returns the messages held, in the order they were sent.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages))
	for _, m := range s.messages {
		out = append(out, copyMessage(m))
	}
	return out
}

// MessagesTo returns the messages sent to receiveID (an open_id or a
// chat_id), in the order they were sent.
func (s *Server) MessagesTo(receiveID string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.ReceiveID == receiveID {
			out = append(out, m)
		}
	}
	return out
}

// Message returns the message with id.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return Message{}, false
	}
	return copyMessage(m), true
}

// Wait blocks until cond holds of the fake's messages, or ctx ends. It is
// woken by every change, never by polling.
func (s *Server) Wait(ctx context.Context, cond func(ms []Message) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s.Messages()) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("feishutest: waited in vain: %w", ctx.Err())
		}
	}
}

// notify wakes the waiters; s.mu is held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func copyMessage(m *Message) Message {
	c := *m
	c.Cards = append([]json.RawMessage(nil), m.Cards...)
	return c
}

// AddRobot registers a custom group bot: its webhook is
// URL()/open-apis/bot/v2/hook/<hook>, signed with secret ("" for none).
func (s *Server) AddRobot(hook, secret string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.robots[hook] = secret
	return s.URL + "/open-apis/bot/v2/hook/" + hook
}

// RobotPosts returns the posts to custom group bots, in order.
func (s *Server) RobotPosts() []RobotPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RobotPost(nil), s.posts...)
}

// count counts a call of op.
func (s *Server) count(op Op) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
}

// takeFailure pops a failure injected into op.
func (s *Server) takeFailure(op Op) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.failures[op]
	if len(fs) == 0 {
		return Failure{}, false
	}
	s.failures[op] = fs[1:]
	return fs[0], true
}

// writeJSON answers with Feishu's envelope; the Content-Type matters: the
// SDK reads the code only from a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeFailure(w http.ResponseWriter, f Failure) {
	if f.Reset > 0 {
		w.Header().Set("x-ogw-ratelimit-limit", "50")
		w.Header().Set("x-ogw-ratelimit-reset", fmt.Sprint(f.Reset))
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"code": f.Code, "msg": f.Msg})
}

// authorized checks the tenant token of a call; it answers the call when
// the token is not one the fake handed out (or it expired).
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	valid := ok && s.tokens[tok]
	s.mu.Unlock()
	if !valid {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 99991663, "msg": "Invalid access token for authorization. Please make a request with token attached."})
	}
	return valid
}
