package wecom

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Bounds on a callback.
const (
	maxBody = 64 << 10
	// answerWithin bounds the work of a callback: WeCom waits 5 seconds,
	// then retries.
	answerWithin = 4 * time.Second
	// maxSkew is how far a callback's timestamp may be from the clock.
	maxSkew = 5 * time.Minute
)

// envelope is a POSTed callback before decryption.
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	AgentID    string   `xml:"AgentID"`
	Encrypt    string   `xml:"Encrypt"`
}

// Event is a decrypted app callback: a message to the app, or an event
// such as a template card click (template_card_event).
type Event struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content,omitempty"`
	MsgID        string   `xml:"MsgId,omitempty"`
	AgentID      string   `xml:"AgentID"`
	Event        string   `xml:"Event,omitempty"`
	EventKey     string   `xml:"EventKey,omitempty"`
	TaskID       string   `xml:"TaskId,omitempty"`
	CardType     string   `xml:"CardType,omitempty"`
	ResponseCode string   `xml:"ResponseCode,omitempty"`
}

// check bounds the fields an event brings.
func (e Event) check() error {
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{{"FromUserName", e.FromUserName, 64}, {"MsgType", e.MsgType, 32}, {"Content", e.Content, 2048},
		{"MsgId", e.MsgID, 64}, {"Event", e.Event, 64}, {"EventKey", e.EventKey, maxKeyBytes},
		{"TaskId", e.TaskID, maxTaskID}, {"ResponseCode", e.ResponseCode, 512}} {
		if len(f.v) > f.max {
			return fmt.Errorf("%s of %d bytes, more than %d", f.name, len(f.v), f.max)
		}
	}
	if e.FromUserName == "" {
		return errors.New("no FromUserName")
	}
	return nil
}

// Handler serves /callbacks/wecom: GET answers the URL check, POST takes
// the app's encrypted XML callbacks (clicks, messages) and the smart
// robot's encrypted JSON ones. Anything that fails a check is answered
// 4xx, changes nothing, and is logged with its reason.
func (p *Platform) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			p.verifyURL(w, r)
		case http.MethodPost:
			p.callback(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// refuse answers a callback that failed a check.
func (p *Platform) refuse(w http.ResponseWriter, status int, reason string, err error) {
	attrs := []any{"reason", reason, "status", status}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	p.log.Warn("wecom callback refused", attrs...)
	http.Error(w, http.StatusText(status), status)
}

// stamp checks the query's timestamp against the clock.
func (p *Platform) stamp(ts string) error {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("timestamp is not a number")
	}
	if d := p.now().Sub(time.Unix(n, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("timestamp %s off the clock by %s", ts, d.Round(time.Second))
	}
	return nil
}

// verifyURL answers WeCom's URL check with the bare decrypted echostr. The
// app's token is tried first, then the smart robot's.
func (p *Platform) verifyURL(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sig, ts, nonce, echo := q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr")
	if err := p.stamp(ts); err != nil {
		p.refuse(w, http.StatusBadRequest, "stale url check", err)
		return
	}
	if len(echo) > 1024 {
		p.refuse(w, http.StatusBadRequest, "echostr too long", nil)
		return
	}
	for _, c := range []*Crypto{p.crypto, p.botCrypt} {
		if c == nil || !c.Verify(sig, ts, nonce, echo) {
			continue
		}
		plain, err := c.Decrypt(echo)
		if err != nil {
			p.refuse(w, http.StatusBadRequest, "undecryptable echostr", err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(plain)
		return
	}
	p.refuse(w, http.StatusUnauthorized, "bad signature on url check", nil)
}

// callback reads, verifies and decrypts a POST, then hands it on.
func (p *Platform) callback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		p.refuse(w, http.StatusRequestEntityTooLarge, "body too large or unreadable", err)
		return
	}
	q := r.URL.Query()
	sig, ts, nonce := q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce")
	if err := p.stamp(ts); err != nil {
		p.refuse(w, http.StatusBadRequest, "stale callback", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), answerWithin)
	defer cancel()
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		p.robotCallback(ctx, w, trimmed, sig, ts, nonce)
		return
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		p.refuse(w, http.StatusBadRequest, "malformed envelope", err)
		return
	}
	if !p.crypto.Verify(sig, ts, nonce, env.Encrypt) {
		p.refuse(w, http.StatusUnauthorized, "bad signature", nil)
		return
	}
	plain, err := p.crypto.Decrypt(env.Encrypt)
	if err != nil {
		p.refuse(w, http.StatusBadRequest, "undecryptable callback", err)
		return
	}
	var ev Event
	if err := xml.Unmarshal(plain, &ev); err != nil {
		p.refuse(w, http.StatusBadRequest, "malformed event", err)
		return
	}
	if err := ev.check(); err != nil {
		p.refuse(w, http.StatusBadRequest, "event out of bounds", err)
		return
	}
	if ev.AgentID != "" && ev.AgentID != strconv.Itoa(p.cfg.AgentID) {
		p.refuse(w, http.StatusBadRequest, "event for another app", fmt.Errorf("agent %s", cut(ev.AgentID, 20)))
		return
	}
	switch {
	case ev.MsgType == "event" && (ev.Event == "template_card_event" || ev.Event == "template_card_menu_event"):
		err = p.click(ctx, ev)
	case ev.MsgType == "text":
		err = p.message(ctx, ev)
	default:
		p.log.Debug("wecom callback ignored", "msg_type", cut(ev.MsgType, 32), "event", cut(ev.Event, 64))
	}
	if err != nil {
		// WeCom retries a callback not answered 200: worth it only when
		// the failure may pass (a store or engine outage).
		p.log.Error("wecom callback failed", "msg_type", ev.MsgType, "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	// An empty 200 tells WeCom the callback is taken; answers go out as
	// card updates and app messages.
	w.WriteHeader(http.StatusOK)
}
