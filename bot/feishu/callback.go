package feishu

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
)

const (
	// maxBody caps a callback's body: a click with a form is a few KB.
	maxBody = 64 << 10
	// maxSkew is how far a callback's timestamp may be from our clock.
	maxSkew = 5 * time.Minute
	// answerWithin is the time a callback's work may take: Feishu waits
	// 3 s for an answer, then shows the reader an error and retries.
	answerWithin = 2500 * time.Millisecond
)

// Header names of a signed callback.
const (
	headerTimestamp = "X-Lark-Request-Timestamp"
	headerNonce     = "X-Lark-Request-Nonce"
	headerSignature = "X-Lark-Signature"
)

// envelope is the decrypted callback, as far as our checks read it.
type envelope struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	Token     string `json:"token"`
	Header    *struct {
		EventID   string `json:"event_id"`
		EventType string `json:"event_type"`
		Token     string `json:"token"`
	} `json:"header"`
	Event *struct {
		Operator *struct {
			OpenID string `json:"open_id"`
		} `json:"operator"`
	} `json:"event"`
}

// Handler serves Feishu's callbacks (events and card clicks, and the URL
// check) at /callbacks/feishu.
func (p *Platform) Handler() http.Handler { return http.HandlerFunc(p.serve) }

// refusal is a callback refused: the status answered and the reason
// logged (never a secret, never the body).
type refusal struct {
	status int
	reason string
}

func (p *Platform) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		p.refuse(w, r, refusal{http.StatusRequestEntityTooLarge, "body too large or unreadable"})
		return
	}
	env, ref := p.check(r.Header, body)
	if ref != nil {
		p.refuse(w, r, *ref)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), answerWithin)
	defer cancel()
	resp := p.disp.Handle(ctx, &larkevent.EventReq{Header: r.Header, Body: body, RequestURI: r.RequestURI})
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if resp.StatusCode != http.StatusOK {
		p.log.WarnContext(r.Context(), "feishu callback failed", "type", eventType(env), "status", resp.StatusCode)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(resp.Body)
}

// check authenticates a callback before the SDK sees it. A signed
// callback (an event or a click) must be signed with our key and fresh
// before its body is decrypted, then carry our verification token; the SDK
// checks neither the time nor the token of events. The only callback Feishu
// sends unsigned is the URL check, which must decrypt with our key (with
// strict padding) and carry our token: every way an unsigned request fails
// is answered alike, so nobody without the key learns from our answers
// whether a body of theirs decrypts (a padding oracle would let them read
// captured callbacks).
func (p *Platform) check(h http.Header, body []byte) (envelope, *refusal) {
	var env envelope
	var outer struct {
		Encrypt string `json:"encrypt"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return env, &refusal{http.StatusBadRequest, "body is not JSON"}
	}
	if outer.Encrypt == "" {
		return env, &refusal{http.StatusBadRequest, "body is not encrypted"}
	}
	if h.Get(headerTimestamp) == "" && h.Get(headerNonce) == "" && h.Get(headerSignature) == "" {
		env, reason := p.urlCheck(outer.Encrypt)
		if reason != "" {
			return env, &refusal{http.StatusUnauthorized, "unsigned callback refused: " + reason}
		}
		return env, nil
	}
	if ref := p.checkSignature(h, body); ref != nil {
		return env, ref
	}
	plain, err := Decrypt(outer.Encrypt, p.cfg.EncryptKey.Reveal())
	if err != nil {
		return env, &refusal{http.StatusBadRequest, "body does not decrypt"}
	}
	if err := json.Unmarshal(plain, &env); err != nil {
		return env, &refusal{http.StatusBadRequest, "decrypted body is not JSON"}
	}
	if env.Type == "url_verification" {
		if !p.tokenOK(env.Token) {
			return env, &refusal{http.StatusUnauthorized, "URL check with a wrong verification token"}
		}
		return env, nil
	}
	if env.Header == nil || !p.tokenOK(env.Header.Token) {
		return env, &refusal{http.StatusUnauthorized, "wrong verification token"}
	}
	if env.Header.EventID == "" || len(env.Header.EventID) > 128 {
		return env, &refusal{http.StatusBadRequest, "event id missing or too long"}
	}
	if env.Header.EventType == "card.action.trigger" && (env.Event == nil || env.Event.Operator == nil || env.Event.Operator.OpenID == "") {
		return env, &refusal{http.StatusBadRequest, "click without operator"}
	}
	return env, nil
}

// urlCheck reads an unsigned callback, which may only be the URL check with
// our verification token; otherwise it says why not, for the log.
func (p *Platform) urlCheck(encrypted string) (envelope, string) {
	var env envelope
	plain, err := Decrypt(encrypted, p.cfg.EncryptKey.Reveal())
	if err != nil {
		return env, "body does not decrypt"
	}
	if err := json.Unmarshal(plain, &env); err != nil {
		return env, "decrypted body is not JSON"
	}
	if env.Type != "url_verification" {
		return env, "signature headers missing"
	}
	if !p.tokenOK(env.Token) {
		return env, "URL check with a wrong verification token"
	}
	return env, ""
}

// checkSignature checks X-Lark-Signature and that the timestamp it signs
// is within five minutes of now.
func (p *Platform) checkSignature(h http.Header, body []byte) *refusal {
	ts, nonce, sig := h.Get(headerTimestamp), h.Get(headerNonce), h.Get(headerSignature)
	if ts == "" || nonce == "" || sig == "" {
		return &refusal{http.StatusUnauthorized, "signature headers missing"}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return &refusal{http.StatusUnauthorized, "timestamp is not a number"}
	}
	if d := p.now().Sub(time.Unix(secs, 0)); d > maxSkew || d < -maxSkew {
		return &refusal{http.StatusUnauthorized, "timestamp is stale or in the future"}
	}
	want := Signature(ts, nonce, p.cfg.EncryptKey.Reveal(), body)
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return &refusal{http.StatusUnauthorized, "signature does not match"}
	}
	return nil
}

func (p *Platform) tokenOK(tok string) bool {
	return subtle.ConstantTimeCompare([]byte(tok), []byte(p.cfg.VerificationToken.Reveal())) == 1
}

// refuse answers a refused callback with its status alone: the reason goes
// to the log, with the caller's address, and never to the caller.
func (p *Platform) refuse(w http.ResponseWriter, r *http.Request, ref refusal) {
	p.log.WarnContext(r.Context(), "feishu callback refused", "reason", ref.reason, "status", ref.status, "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ref.status)
	b, _ := json.Marshal(map[string]string{"msg": http.StatusText(ref.status)})
	_, _ = w.Write(b)
}

func eventType(env envelope) string {
	if env.Header != nil {
		return env.Header.EventType
	}
	return env.Type
}

// Errors handed to the SDK, which writes them into the answer to Feishu.
var (
	// errBadCallback is a callback whose content cannot be acted on.
	errBadCallback = errors.New("feishu: callback content not understood")
	// errNotHandled is a callback whose work failed; Feishu retries it.
	errNotHandled = errors.New("feishu: callback not handled; try again")
)
