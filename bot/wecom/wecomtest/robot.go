package wecomtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// RobotReply is how the server answered a smart robot callback.
type RobotReply struct {
	Status int
	// Plain is the decrypted passive reply; nil for an empty answer.
	Plain []byte
	// Content is a stream or markdown reply's content.
	Content string
}

// FireRobot fires a smart robot text message (chattype group when chatID
// is set) at the callback URL and decrypts the answer.
func (s *Server) FireRobot(ctx context.Context, callbackURL, msgID, chatID, user, text string) (RobotReply, error) {
	ev := map[string]any{"msgid": msgID, "aibotid": "aib-fake", "chattype": "single", "from": map[string]string{"userid": user},
		"msgtype": "text", "text": map[string]string{"content": text}}
	if chatID != "" {
		ev["chatid"], ev["chattype"] = chatID, "group"
	}
	plain, _ := json.Marshal(ev)
	enc, err := s.botCrypto.Encrypt(nil, plain)
	if err != nil {
		return RobotReply{}, err
	}
	ts := strconv.FormatInt(s.clock().Unix(), 10)
	q := url.Values{"msg_signature": {s.botCrypto.Signature(ts, "rn1", enc)}, "timestamp": {ts}, "nonce": {"rn1"}}
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodPost, callbackURL+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return RobotReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return RobotReply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return RobotReply{}, err
	}
	r := RobotReply{Status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK || len(raw) == 0 {
		return r, nil
	}
	var env struct {
		Encrypt      string `json:"encrypt"`
		MsgSignature string `json:"msgsignature"`
		Timestamp    int64  `json:"timestamp"`
		Nonce        string `json:"nonce"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return r, err
	}
	if !s.botCrypto.Verify(env.MsgSignature, strconv.FormatInt(env.Timestamp, 10), env.Nonce, env.Encrypt) {
		return r, errors.New("wecomtest: robot reply's signature does not verify")
	}
	if r.Plain, err = s.botCrypto.Decrypt(env.Encrypt); err != nil {
		return r, err
	}
	var out struct {
		Stream   struct{ Content string } `json:"stream"`
		Markdown struct{ Content string } `json:"markdown"`
	}
	if json.Unmarshal(r.Plain, &out) == nil {
		r.Content = out.Stream.Content + out.Markdown.Content
	}
	return r, nil
}

// CheckRobotURL runs the URL check with the smart robot's token and key.
func (s *Server) CheckRobotURL(ctx context.Context, callbackURL, echo string) (int, string, error) {
	return s.checkURL(ctx, callbackURL, echo, s.botCrypto)
}
