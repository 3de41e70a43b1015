package wecomtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"cardflow/bot/wecom"
)

// newCode issues a response code for a card message; s.mu is held.
func (s *Server) newCode(taskID string) string {
	s.seq++
	c := "rc-" + strconv.Itoa(s.seq)
	s.codes[c] = &code{taskID: taskID, expires: s.now().Add(codeLife)}
	return c
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ToUser       string             `json:"touser"`
		MsgType      string             `json:"msgtype"`
		AgentID      int                `json:"agentid"`
		TemplateCard wecom.TemplateCard `json:"template_card"`
		Text         struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		errcode(w, 40058, "bad json")
		return
	}
	switch {
	case req.AgentID != AgentID:
		errcode(w, 40056, "invalid agentid")
		return
	case req.MsgType == "text" && req.ToUser != "" && req.Text.Content != "":
		s.texts[req.ToUser] = append(s.texts[req.ToUser], req.Text.Content)
		s.notify()
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": "t" + strconv.Itoa(len(s.texts))})
		return
	case req.MsgType != "template_card" || req.ToUser == "":
		errcode(w, 40008, "invalid message type or no touser")
		return
	case req.TemplateCard.TaskID == "" || s.messages[req.TemplateCard.TaskID] != nil:
		errcode(w, 40058, "task_id missing or used")
		return
	}
	tc := req.TemplateCard
	s.messages[tc.TaskID] = &Message{TaskID: tc.TaskID, User: req.ToUser, Card: tc}
	s.order = append(s.order, tc.TaskID)
	s.seq++
	msgID := "m" + strconv.Itoa(s.seq)
	rc := s.newCode(tc.TaskID)
	s.notify()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": msgID, "response_code": rc})
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserIDs      []string            `json:"userids"`
		AgentID      int                 `json:"agentid"`
		ResponseCode string              `json:"response_code"`
		TemplateCard *wecom.TemplateCard `json:"template_card"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.TemplateCard == nil {
		errcode(w, 40058, "bad json or no template_card")
		return
	}
	c := s.codes[req.ResponseCode]
	switch {
	case req.AgentID != AgentID:
		errcode(w, 40056, "invalid agentid")
		return
	case c == nil || c.used || !s.now().Before(c.expires):
		s.refused++
		errcode(w, 40058, "response_code invalid, used or expired")
		return
	}
	m := s.messages[c.taskID]
	if len(req.UserIDs) != 1 || req.UserIDs[0] != m.User ||
		(req.TemplateCard.TaskID != "" && req.TemplateCard.TaskID != c.taskID) {
		errcode(w, 40058, "userids or task_id do not match the response_code")
		return
	}
	c.used = true
	m.Card = *req.TemplateCard
	m.Updates = append(m.Updates, *req.TemplateCard)
	s.notify()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": []string{}})
}

// robotLimit is WeCom's limit of a group robot: 20 messages a minute.
const robotLimit = 20

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.URL.Query().Get("key")
	if key == "" {
		errcode(w, 93000, "invalid webhook url")
		return
	}
	if f, ok := s.failure(r.URL.Path); ok {
		s.answerFailure(w, f)
		return
	}
	var req struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MsgType != "markdown" || req.Markdown.Content == "" {
		errcode(w, 40008, "invalid message")
		return
	}
	now := s.now()
	recent := 0
	for _, p := range s.robots[key] {
		if now.Sub(p.at) < time.Minute {
			recent++
		}
	}
	if recent >= robotLimit {
		errcode(w, 45009, "api freq out of limit")
		return
	}
	s.robots[key] = append(s.robots[key], robotPost{at: now, content: req.Markdown.Content})
	s.notify()
	errcode(w, 0, "ok")
}

// CodeFor issues a fresh response code for a card message, as a click
// does; FireClick uses it.
func (s *Server) CodeFor(taskID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCode(taskID)
}

// OpenCodes says how many unused, unexpired response codes a card
// message has.
func (s *Server) OpenCodes(taskID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.codes {
		if c.taskID == taskID && !c.used && s.now().Before(c.expires) {
			n++
		}
	}
	return n
}

// Spent reports whether an update spent the response code.
func (s *Server) Spent(responseCode string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.codes[responseCode]
	return c != nil && c.used
}

// Texts returns the text messages the app sent to user, in order.
func (s *Server) Texts(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts[user]...)
}

// RefusedCodes says how many updates came with a response code that was
// unknown, spent or expired.
func (s *Server) RefusedCodes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}
