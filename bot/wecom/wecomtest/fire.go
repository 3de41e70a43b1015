package wecomtest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"cardflow/bot/wecom"
)

// Reply is how the server answered a callback the fake fired.
type Reply struct {
	Status int
	Body   []byte
	// Plain is the decrypted passive reply; nil for an empty answer.
	Plain []byte
	// Text is the Content of a passive text reply.
	Text string
}

// Sealed is a callback as WeCom sends it: the query (msg_signature,
// timestamp, nonce) and the body.
type Sealed struct {
	Query url.Values
	Body  []byte
}

// Seal encrypts and signs an app callback (plaintext XML) at the fake's
// time; tests tamper with the result.
func (s *Server) Seal(plain []byte) Sealed {
	enc, _ := s.crypto.Encrypt(nil, plain)
	ts := strconv.FormatInt(s.clock().Unix(), 10)
	nonce := "n" + strconv.FormatInt(time.Now().UnixNano(), 36)
	env, _ := xml.Marshal(struct {
		XMLName    xml.Name `xml:"xml"`
		ToUserName string   `xml:"ToUserName"`
		AgentID    int      `xml:"AgentID"`
		Encrypt    string   `xml:"Encrypt"`
	}{ToUserName: CorpID, AgentID: AgentID, Encrypt: enc})
	return Sealed{Query: url.Values{"msg_signature": {s.crypto.Signature(ts, nonce, enc)}, "timestamp": {ts},
		"nonce": {nonce}}, Body: env}
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// Click is a template card click as WeCom reports it.
func (s *Server) Click(user, taskID, eventKey string) wecom.Event {
	return wecom.Event{ToUserName: CorpID, FromUserName: user, CreateTime: s.clock().Unix(), MsgType: "event",
		AgentID: strconv.Itoa(AgentID), Event: "template_card_event", EventKey: eventKey, TaskID: taskID,
		CardType: wecom.CardButtons, ResponseCode: s.CodeFor(taskID)}
}

// Text is a text message to the app as WeCom reports it.
func (s *Server) Text(user, content, msgID string) wecom.Event {
	return wecom.Event{ToUserName: CorpID, FromUserName: user, CreateTime: s.clock().Unix(), MsgType: "text",
		Content: content, MsgID: msgID, AgentID: strconv.Itoa(AgentID)}
}

// FireClick fires a click on a button of a card message at the callback
// URL, with a fresh response code, and returns the answer.
func (s *Server) FireClick(ctx context.Context, callbackURL, user, taskID, eventKey string) (Reply, error) {
	return s.Fire(ctx, callbackURL, s.Click(user, taskID, eventKey))
}

// Fire encrypts, signs and posts an event, and decrypts the answer. Like
// WeCom, it tries up to three times when no answer comes within 5 s.
func (s *Server) Fire(ctx context.Context, callbackURL string, ev wecom.Event) (Reply, error) {
	plain, err := xml.Marshal(ev)
	if err != nil {
		return Reply{}, err
	}
	sealed := s.Seal(plain)
	var last error
	for range 3 {
		r, err := s.Post(ctx, callbackURL, sealed)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return r, err
		}
		last = err
	}
	return Reply{}, last
}

// Post posts a sealed callback and decrypts the answer, checking its
// signature.
func (s *Server) Post(ctx context.Context, callbackURL string, c Sealed) (Reply, error) {
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodPost, callbackURL+"?"+c.Query.Encode(), bytes.NewReader(c.Body))
	if err != nil {
		return Reply{}, err
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Status: resp.StatusCode, Body: body}
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		return r, nil
	}
	var env struct {
		Encrypt      string `xml:"Encrypt"`
		MsgSignature string `xml:"MsgSignature"`
		TimeStamp    string `xml:"TimeStamp"`
		Nonce        string `xml:"Nonce"`
	}
	if err := xml.Unmarshal(body, &env); err != nil {
		return r, fmt.Errorf("wecomtest: passive reply is not XML: %w", err)
	}
	if !s.crypto.Verify(env.MsgSignature, env.TimeStamp, env.Nonce, env.Encrypt) {
		return r, errors.New("wecomtest: passive reply's signature does not verify")
	}
	if r.Plain, err = s.crypto.Decrypt(env.Encrypt); err != nil {
		return r, fmt.Errorf("wecomtest: passive reply: %w", err)
	}
	var text struct {
		MsgType string `xml:"MsgType"`
		Content string `xml:"Content"`
	}
	if xml.Unmarshal(r.Plain, &text) == nil && text.MsgType == "text" {
		r.Text = text.Content
	}
	return r, nil
}

// CheckURL runs WeCom's URL check against the callback URL and returns
// the status and the answer, which must be the bare echo.
func (s *Server) CheckURL(ctx context.Context, callbackURL, echo string) (int, string, error) {
	return s.checkURL(ctx, callbackURL, echo, s.crypto)
}

func (s *Server) checkURL(ctx context.Context, callbackURL, echo string, c *wecom.Crypto) (int, string, error) {
	enc, _ := c.Encrypt(nil, []byte(echo))
	ts := strconv.FormatInt(s.clock().Unix(), 10)
	q := url.Values{"msg_signature": {c.Signature(ts, "echo1", enc)}, "timestamp": {ts}, "nonce": {"echo1"}, "echostr": {enc}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, callbackURL+"?"+q.Encode(), nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}
