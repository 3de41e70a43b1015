package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"cardflow/bot"
)

// RobotEvent is a decrypted smart robot (智能机器人, API mode) callback:
// a message in a group (where the robot was @-mentioned) or a 1:1 chat.
type RobotEvent struct {
	MsgID    string `json:"msgid"`
	AIBotID  string `json:"aibotid"`
	ChatID   string `json:"chatid,omitempty"`
	ChatType string `json:"chattype"`
	From     struct {
		UserID string `json:"userid"`
	} `json:"from"`
	ResponseURL string `json:"response_url,omitempty"`
	MsgType     string `json:"msgtype"`
	Text        struct {
		Content string `json:"content"`
	} `json:"text"`
}

// robotEnvelope is a smart robot's encrypted body, and its passive reply.
type robotEnvelope struct {
	Encrypt      string `json:"encrypt"`
	MsgSignature string `json:"msgsignature,omitempty"`
	Timestamp    int64  `json:"timestamp,omitempty"`
	Nonce        string `json:"nonce,omitempty"`
}

// robotCallback takes a smart robot's encrypted JSON callback: a text
// message goes to Inbound (once per msgid) and its answer cards come back
// as one passive reply, a finished stream message whose content is
// markdown.
func (p *Platform) robotCallback(ctx context.Context, w http.ResponseWriter, body []byte, sig, ts, nonce string) {
	if p.botCrypt == nil {
		p.refuse(w, http.StatusNotFound, "smart robot not configured", nil)
		return
	}
	var env robotEnvelope
	if err := json.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		p.refuse(w, http.StatusBadRequest, "malformed robot envelope", err)
		return
	}
	if !p.botCrypt.Verify(sig, ts, nonce, env.Encrypt) {
		p.refuse(w, http.StatusUnauthorized, "bad robot signature", nil)
		return
	}
	plain, err := p.botCrypt.Decrypt(env.Encrypt)
	if err != nil {
		p.refuse(w, http.StatusBadRequest, "undecryptable robot callback", err)
		return
	}
	var ev RobotEvent
	if err := json.Unmarshal(plain, &ev); err != nil {
		p.refuse(w, http.StatusBadRequest, "malformed robot event", err)
		return
	}
	if ev.MsgID == "" || ev.From.UserID == "" || len(ev.MsgID) > 128 || len(ev.From.UserID) > 64 ||
		len(ev.ChatID) > 128 || len(ev.Text.Content) > 4096 {
		p.refuse(w, http.StatusBadRequest, "robot event out of bounds", nil)
		return
	}
	if ev.MsgType != "text" {
		p.log.Debug("smart robot callback ignored", "msg_type", cut(ev.MsgType, 32))
		w.WriteHeader(http.StatusOK)
		return
	}
	chat := ""
	if ev.ChatType == "group" {
		chat = ev.ChatID
	}
	id := "bot|" + ev.MsgID
	m := bot.Message{Platform: Name, EventID: id, PlatformUserID: ev.From.UserID, ChatID: chat, Text: stripMention(ev.Text.Content)}
	reply, _, err := bot.AnswerOnce(ctx, p.deps.Store, Name, id, m.Fingerprint(), p.now(), func(ctx context.Context) ([]byte, error) {
		cards, err := p.deps.Inbound.Message(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("wecom: robot message: %w", err)
		}
		return robotReply(ev.MsgID, cards)
	})
	if err != nil {
		p.log.Error("smart robot callback failed", "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if len(reply) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	enc, err := p.botCrypt.Encrypt(nil, reply)
	if err != nil {
		p.log.Error("smart robot reply not sealed", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	now := p.now().Unix()
	n := strings.TrimPrefix(newTaskID(), "cf-")[:10]
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(robotEnvelope{Encrypt: enc, Timestamp: now, Nonce: n,
		MsgSignature: p.botCrypt.Signature(strconv.FormatInt(now, 10), n, enc)})
}

// robotReply is the passive reply of cards: one finished stream message
// with the cards as markdown; nil for no cards.
func robotReply(msgID string, cards []bot.Card) ([]byte, error) {
	if len(cards) == 0 {
		return nil, nil
	}
	parts := make([]string, len(cards))
	for i, c := range cards {
		parts[i] = Markdown(c)
	}
	content := strings.Join(parts, "\n\n")
	if len(content) > maxMarkdown*5 {
		content = cut(content, maxMarkdown*5/3)
	}
	type stream struct {
		ID      string `json:"id"`
		Finish  bool   `json:"finish"`
		Content string `json:"content"`
	}
	return json.Marshal(struct {
		MsgType string `json:"msgtype"`
		Stream  stream `json:"stream"`
	}{"stream", stream{ID: "cf-" + cut(msgID, 64), Finish: true, Content: content}})
}

// stripMention drops the leading @-mentions of a group message: "@审批助手
// /todo" is "/todo".
func stripMention(s string) string {
	s = strings.TrimSpace(s)
	for strings.HasPrefix(s, "@") {
		i := strings.IndexAny(s, " \u2005\u00a0\t\n")
		if i < 0 {
			return ""
		}
		s = strings.TrimSpace(s[i:])
		s = strings.TrimLeft(s, "\u2005\u00a0")
	}
	return s
}
