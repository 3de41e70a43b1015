package dingtalktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// sign is DingTalk's robot signature, written here apart from the
// platform's own so that the two check each other.
func sign(secret, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	_, _ = io.WriteString(m, ts+"\n"+secret)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// robotLimit is DingTalk's limit of a custom robot: 20 messages a minute.
const robotLimit = 20

// robotSend is a custom robot's webhook: the access token names the
// robot, timestamp and sign prove the secret, and a robot that posts more
// than 20 messages in a minute is refused with errcode 130101.
func (s *Server) robotSend(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tok := q.Get("access_token")
	secret, ok := s.opts.Robots[tok]
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 300001, "errmsg": "token is not exist"})
		return
	}
	now := s.opts.Now()
	ms, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil || now.Sub(time.UnixMilli(ms)).Abs() > time.Hour {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 310000, "errmsg": "sign not match, timestamp is invalid"})
		return
	}
	if !hmac.Equal([]byte(q.Get("sign")), []byte(sign(secret, q.Get("timestamp")))) {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 310000, "errmsg": "sign not match"})
		return
	}
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body["msgtype"] == nil {
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 40035, "errmsg": "缺少参数 msgtype"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var recent []time.Time
	for _, at := range s.robotSent[tok] {
		if now.Sub(at) < time.Minute {
			recent = append(recent, at)
		}
	}
	if len(recent) >= robotLimit {
		s.robotSent[tok] = recent
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
		return
	}
	s.robotSent[tok] = append(recent, now)
	s.robotMsgs = append(s.robotMsgs, RobotMessage{Token: tok, Body: body})
	s.notify()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// robotAPICall is the app robot's message APIs (oToMessages/batchSend,
// groupMessages/send): recorded, answered with a process query key.
func (s *Server) robotAPICall(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if !decode(w, r, &in) {
		return
	}
	if in["robotCode"] != s.opts.RobotCode || in["msgKey"] == nil || in["msgParam"] == nil {
		badRequest(w, "robotCode, msgKey and msgParam are required")
		return
	}
	s.mu.Lock()
	s.robotAPI = append(s.robotAPI, in)
	s.notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"processQueryKey": "k-" + randomHex(4)})
}
