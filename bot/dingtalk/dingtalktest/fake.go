// Package dingtalktest is a local DingTalk for tests: an httptest server
// speaking the wire format of the parts cardflow uses (the access token,
// interactive cards, robot messages, custom robot webhooks and the stream
// gateway), recording what it got, able to fail on demand, and able to
// fire clicks and messages at the platform through the stream.
package dingtalktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configure the fake.
type Options struct {
	// ClientID and ClientSecret are the app's credentials it accepts.
	ClientID, ClientSecret string
	// RobotCode is the app robot's code cards must name.
	RobotCode string
	// Robots are the custom robots it accepts: access token → signing
	// secret.
	Robots map[string]string
	// AckTimeout is how long the gateway waits for an ack before it
	// redelivers a frame; default 2s. MaxDeliveries bounds the deliveries
	// of one frame; default 5.
	AckTimeout    time.Duration
	MaxDeliveries int
	// Now is the fake's clock (token lifetimes, robot limits); time.Now if
	// nil.
	Now func() time.Time
}

// Card is an interactive card as the fake holds it.
type Card struct {
	OutTrackID   string
	TemplateID   string
	CallbackType string
	// UserID is the person of a 1:1 card; ChatID the group of a group
	// card.
	UserID, ChatID string
	Params         map[string]string
	// Updates counts the PUTs that changed it; Answers the click answers
	// that did.
	Updates, Answers int
}

// RobotMessage is a message a custom robot posted.
type RobotMessage struct {
	Token string
	Body  map[string]any
}

// Failure is an answer the fake gives instead of the normal one.
type Failure struct {
	Status int
	Body   string
	Header http.Header
}

// Failures DingTalk gives.
var (
	// TokenInvalid is the answer to an expired or revoked access token.
	TokenInvalid = Failure{Status: http.StatusUnauthorized,
		Body: `{"code":"InvalidAuthentication","message":"不合法的access_token","requestid":"r1"}`}
	// Throttled is the answer to too many calls (the app's QPS).
	Throttled = Failure{Status: http.StatusTooManyRequests,
		Body:   `{"code":"Throttling.Api","message":"请求被流控","requestid":"r2"}`,
		Header: http.Header{"Retry-After": {"3"}}}
	// ServerError is a failure on DingTalk's side.
	ServerError = Failure{Status: http.StatusInternalServerError,
		Body: `{"code":"ServiceUnavailable","message":"服务暂不可用","requestid":"r3"}`}
	// UnknownUser is a card created but not delivered.
	UnknownUser = Failure{Status: http.StatusOK,
		Body: `{"success":true,"result":{"outTrackId":"x","deliverResults":[{"spaceType":"IM_ROBOT","success":false,"errorMsg":"user not found"}]}}`}
	// BadParam is a request DingTalk refuses.
	BadParam = Failure{Status: http.StatusBadRequest,
		Body: `{"code":"InvalidParameter","message":"参数错误","requestid":"r4"}`}
)

// Server is the fake. It is safe for concurrent use.
type Server struct {
	opts Options
	srv  *httptest.Server
	// URL is the fake's base URL, for base_url.
	URL string

	mu           sync.Mutex
	changed      chan struct{}
	tokenFetches int
	tokens       map[string]bool
	cards        map[string]*Card
	order        []string
	robotMsgs    []RobotMessage
	robotSent    map[string][]time.Time
	robotAPI     []map[string]any
	fails        map[string][]Failure
	gw           gateway
}

// New starts a fake; it stops when the test ends.
func New(t interface {
	Cleanup(func())
}, o Options) *Server {
	if o.AckTimeout <= 0 {
		o.AckTimeout = 2 * time.Second
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, changed: make(chan struct{}), tokens: map[string]bool{}, cards: map[string]*Card{},
		robotSent: map[string][]time.Time{}, fails: map[string][]Failure{}}
	s.gw.init()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/oauth2/accessToken", s.token)
	mux.HandleFunc("POST /v1.0/card/instances/createAndDeliver", s.authed(s.createAndDeliver))
	mux.HandleFunc("PUT /v1.0/card/instances", s.authed(s.updateCard))
	mux.HandleFunc("POST /v1.0/robot/oToMessages/batchSend", s.authed(s.robotAPICall))
	mux.HandleFunc("POST /v1.0/robot/groupMessages/send", s.authed(s.robotAPICall))
	mux.HandleFunc("POST /robot/send", s.robotSend)
	mux.HandleFunc("POST /v1.0/gateway/connections/open", s.openConnection)
	mux.HandleFunc("GET /gateway/ws", s.websocket)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the fake and its stream connections.
func (s *Server) Close() {
	s.gw.closeAll()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// notify wakes Wait; the caller holds mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait returns once cond holds, checked after every change the fake
// records, or ctx's error.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Fail makes the next call to path answer f; several queue up.
func (s *Server) Fail(path string, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[path] = append(s.fails[path], f)
}

// ExpireTokens revokes every token handed out, as DingTalk does when
// another instance fetches one or the secret is reset.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// TokenFetches is how many tokens were handed out.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenFetches
}

// Cards are every card sent, in the order they were created.
func (s *Server) Cards() []Card {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Card, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.cards[id].clone())
	}
	return out
}

// Card is the card of that outTrackId.
func (s *Server) Card(outTrackID string) (Card, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cards[outTrackID]
	if !ok {
		return Card{}, false
	}
	return c.clone(), true
}

// CardsFor are the 1:1 cards sent to a user.
func (s *Server) CardsFor(userID string) []Card {
	var out []Card
	for _, c := range s.Cards() {
		if c.UserID == userID {
			out = append(out, c)
		}
	}
	return out
}

// RobotMessages are the custom robots' messages.
func (s *Server) RobotMessages() []RobotMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RobotMessage(nil), s.robotMsgs...)
}

func (c *Card) clone() Card {
	out := *c
	out.Params = make(map[string]string, len(c.Params))
	for k, v := range c.Params {
		out.Params[k] = v
	}
	return out
}

// failure takes the next failure queued for the request's path.
func (s *Server) failure(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	q := s.fails[r.URL.Path]
	if len(q) == 0 {
		s.mu.Unlock()
		return false
	}
	f := q[0]
	s.fails[r.URL.Path] = q[1:]
	s.mu.Unlock()
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	writeRaw(w, f.Status, f.Body)
	return true
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, string(b))
}

func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"code": "InvalidParameter", "message": msg})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		badRequest(w, "body is not JSON: "+err.Error())
		return false
	}
	return true
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if s.failure(w, r) {
		return
	}
	var in struct {
		AppKey    string `json:"appKey"`
		AppSecret string `json:"appSecret"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.AppKey != s.opts.ClientID || in.AppSecret != s.opts.ClientSecret {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "invalidClientSecret", "message": "应用凭证错误"})
		return
	}
	s.mu.Lock()
	s.tokenFetches++
	tok := fmt.Sprintf("dt-fake-%d-%s", s.tokenFetches, randomHex(4))
	s.tokens[tok] = true
	s.notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "expireIn": 7200})
}

// authed checks the access token header before h.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ok := s.tokens[r.Header.Get("x-acs-dingtalk-access-token")]
		s.mu.Unlock()
		if !ok {
			writeRaw(w, TokenInvalid.Status, TokenInvalid.Body)
			return
		}
		if s.failure(w, r) {
			return
		}
		h(w, r)
	}
}

func (s *Server) createAndDeliver(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OutTrackID     string `json:"outTrackId"`
		CardTemplateID string `json:"cardTemplateId"`
		CallbackType   string `json:"callbackType"`
		OpenSpaceID    string `json:"openSpaceId"`
		CardData       struct {
			CardParamMap map[string]string `json:"cardParamMap"`
		} `json:"cardData"`
		Robot *struct {
			SpaceType string `json:"spaceType"`
			RobotCode string `json:"robotCode"`
		} `json:"imRobotOpenDeliverModel"`
		Group *struct {
			RobotCode string `json:"robotCode"`
		} `json:"imGroupOpenDeliverModel"`
	}
	if !decode(w, r, &in) {
		return
	}
	c := &Card{OutTrackID: in.OutTrackID, TemplateID: in.CardTemplateID, CallbackType: in.CallbackType,
		Params: in.CardData.CardParamMap}
	switch {
	case in.OutTrackID == "" || in.CardTemplateID == "" || in.CallbackType == "":
		badRequest(w, "outTrackId, cardTemplateId and callbackType are required")
		return
	case strings.HasPrefix(in.OpenSpaceID, "dtv1.card//IM_ROBOT.") && in.Robot != nil &&
		in.Robot.SpaceType == "IM_ROBOT" && in.Robot.RobotCode == s.opts.RobotCode:
		c.UserID = strings.TrimPrefix(in.OpenSpaceID, "dtv1.card//IM_ROBOT.")
	case strings.HasPrefix(in.OpenSpaceID, "dtv1.card//IM_GROUP.") && in.Group != nil &&
		in.Group.RobotCode == s.opts.RobotCode:
		c.ChatID = strings.TrimPrefix(in.OpenSpaceID, "dtv1.card//IM_GROUP.")
	default:
		badRequest(w, "openSpaceId and its deliver model (with the robot's code) do not match")
		return
	}
	s.mu.Lock()
	if _, dup := s.cards[c.OutTrackID]; dup {
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.outTrackIdExist", "message": "outTrackId 已存在"})
		return
	}
	s.cards[c.OutTrackID] = c
	s.order = append(s.order, c.OutTrackID)
	s.notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": map[string]any{"outTrackId": c.OutTrackID,
		"deliverResults": []map[string]any{{"spaceType": "IM", "spaceId": c.UserID + c.ChatID, "success": true, "carrierId": "c-" + c.OutTrackID}}}})
}

func (s *Server) updateCard(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OutTrackID string `json:"outTrackId"`
		CardData   struct {
			CardParamMap map[string]string `json:"cardParamMap"`
		} `json:"cardData"`
		Options struct {
			ByKey bool `json:"updateCardDataByKey"`
		} `json:"cardUpdateOptions"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cards[in.OutTrackID]
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "param.cardNotExist", "message": "卡片不存在"})
		return
	}
	c.apply(in.CardData.CardParamMap, in.Options.ByKey)
	c.Updates++
	s.notify()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": true})
}

// apply sets a card's variables: by key (those given), or all of them.
func (c *Card) apply(params map[string]string, byKey bool) {
	if !byKey {
		c.Params = map[string]string{}
	}
	for k, v := range params {
		c.Params[k] = v
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
