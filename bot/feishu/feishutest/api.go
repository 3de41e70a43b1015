package feishutest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxCard is Feishu's limit on a card's JSON.
const maxCard = 30 * 1024

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.count(OpToken)
	if f, ok := s.takeFailure(OpToken); ok {
		writeFailure(w, f)
		return
	}
	var in struct {
		AppID     string `json:"app_id"`
		AppSecret string `json:"app_secret"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil ||
		in.AppID != s.Keys.AppID || in.AppSecret != s.Keys.AppSecret {
		writeFailure(w, TokenRefused)
		return
	}
	s.mu.Lock()
	s.fetches++
	tok := fmt.Sprintf("t-fake-%04d", s.fetches)
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "ok", "tenant_access_token": tok, "expire": 7200})
}

// checkCard checks a message's content as Feishu does: a card JSON 2.0,
// shared (update_multi), within 30 KB.
func checkCard(content string) (json.RawMessage, bool) {
	var c struct {
		Schema string `json:"schema"`
		Config struct {
			UpdateMulti bool `json:"update_multi"`
		} `json:"config"`
		Body struct {
			Elements []json.RawMessage `json:"elements"`
		} `json:"body"`
	}
	if len(content) > maxCard || json.Unmarshal([]byte(content), &c) != nil || c.Schema != "2.0" || !c.Config.UpdateMulti {
		return nil, false
	}
	return json.RawMessage(content), true
}

var badCard = Failure{Status: http.StatusBadRequest, Code: 230099, Msg: "Failed to create card content"}

type sendBody struct {
	ReceiveID string `json:"receive_id"`
	MsgType   string `json:"msg_type"`
	Content   string `json:"content"`
	UUID      string `json:"uuid"`
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	s.create(w, r, OpSend, "")
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request) {
	s.create(w, r, OpReply, r.PathValue("id"))
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, op Op, replyTo string) {
	s.count(op)
	if !s.authorized(w, r) {
		return
	}
	if f, ok := s.takeFailure(op); ok {
		writeFailure(w, f)
		return
	}
	var in sendBody
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.MsgType != "interactive" {
		writeFailure(w, Failure{Status: http.StatusBadRequest, Code: 230001, Msg: "invalid request"})
		return
	}
	idType := r.URL.Query().Get("receive_id_type")
	if op == OpSend && (in.ReceiveID == "" || (idType != "open_id" && idType != "chat_id")) {
		writeFailure(w, Failure{Status: http.StatusBadRequest, Code: 230001, Msg: "invalid receive_id"})
		return
	}
	card, ok := checkCard(in.Content)
	if !ok {
		writeFailure(w, badCard)
		return
	}
	s.mu.Lock()
	m, dup := s.byUUID[in.UUID]
	if !dup || in.UUID == "" {
		s.seq++
		m = &Message{ID: fmt.Sprintf("om_fake%06d", s.seq), ReceiveIDType: idType, ReceiveID: in.ReceiveID,
			ReplyTo: replyTo, UUID: in.UUID, Card: card, Cards: []json.RawMessage{card}}
		if replyTo != "" {
			if parent, ok := s.byID[replyTo]; ok {
				m.ReceiveIDType, m.ReceiveID = parent.ReceiveIDType, parent.ReceiveID
			}
		}
		s.messages = append(s.messages, m)
		s.byID[m.ID] = m
		if in.UUID != "" {
			s.byUUID[in.UUID] = m
		}
		s.notify()
	}
	id := m.ID
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"message_id": id, "msg_type": "interactive"}})
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request) {
	s.count(OpPatch)
	if !s.authorized(w, r) {
		return
	}
	if f, ok := s.takeFailure(OpPatch); ok {
		writeFailure(w, f)
		return
	}
	var in struct {
		Content string `json:"content"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		writeFailure(w, Failure{Status: http.StatusBadRequest, Code: 230001, Msg: "invalid request"})
		return
	}
	card, ok := checkCard(in.Content)
	if !ok {
		writeFailure(w, badCard)
		return
	}
	s.mu.Lock()
	m, found := s.byID[r.PathValue("id")]
	if found {
		m.Card = card
		m.Cards = append(m.Cards, card)
		s.notify()
	}
	s.mu.Unlock()
	if !found {
		writeFailure(w, Failure{Status: http.StatusBadRequest, Code: 230011, Msg: "The message was withdrawn."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "success", "data": map[string]any{}})
}

func (s *Server) botInfo(w http.ResponseWriter, r *http.Request) {
	s.count(OpBotInfo)
	if !s.authorized(w, r) {
		return
	}
	if f, ok := s.takeFailure(OpBotInfo); ok {
		writeFailure(w, f)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "ok",
		"bot": map[string]any{"activate_status": 2, "app_name": "cardflow", "open_id": BotOpenID}})
}

// robot serves a custom group bot's webhook: it checks the sign (within an
// hour) and records the card.
func (s *Server) robot(w http.ResponseWriter, r *http.Request) {
	s.count(OpRobot)
	if f, ok := s.takeFailure(OpRobot); ok {
		writeFailure(w, f)
		return
	}
	hook := r.PathValue("hook")
	s.mu.Lock()
	secret, known := s.robots[hook]
	s.mu.Unlock()
	if !known {
		writeFailure(w, Failure{Code: 19001, Msg: "param invalid: incoming webhook access token invalid"})
		return
	}
	var in struct {
		Timestamp string          `json:"timestamp"`
		Sign      string          `json:"sign"`
		MsgType   string          `json:"msg_type"`
		Card      json.RawMessage `json:"card"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.MsgType != "interactive" {
		writeFailure(w, Failure{Code: 9499, Msg: "Bad Request"})
		return
	}
	if secret != "" {
		ts, err := strconv.ParseInt(in.Timestamp, 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Hour || in.Sign != robotSign(ts, secret) {
			writeFailure(w, Failure{Code: 19021, Msg: "sign match fail or timestamp is not within one hour from current time"})
			return
		}
	}
	if _, ok := checkCard(string(in.Card)); !ok {
		writeFailure(w, badCard)
		return
	}
	s.mu.Lock()
	s.posts = append(s.posts, RobotPost{Hook: hook, Card: in.Card})
	s.notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "success", "data": map[string]any{}})
}

// robotSign is Feishu's custom-bot sign, computed here independently of
// the platform package.
func robotSign(ts int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(ts, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
