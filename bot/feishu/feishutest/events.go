package feishutest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Msg is a text message to the bot (im.message.receive_v1). In a group
// (ChatID set) Feishu writes each @-mention as "@_user_N" in the text and
// lists it in mentions.
type Msg struct {
	EventID   string
	MessageID string
	OpenID    string
	// ChatID makes it a group message; Mentions are who it @-mentions, by
	// open_id, in order (@_user_1 first).
	ChatID   string
	Mentions []string
	Text     string
	// SenderType is "user" unless set ("app" for another bot).
	SenderType string
	// MessageType is "text" unless set.
	MessageType string
}

// MessageEvent returns the decrypted JSON of a message event.
func MessageEvent(k Keys, m Msg) []byte {
	if m.EventID == "" {
		m.EventID = NewEventID()
	}
	if m.MessageID == "" {
		m.MessageID = "om_in" + NewEventID()[:12]
	}
	if m.SenderType == "" {
		m.SenderType = "user"
	}
	if m.MessageType == "" {
		m.MessageType = "text"
	}
	chatType, chatID := "p2p", m.ChatID
	if chatID != "" {
		chatType = "group"
	} else {
		chatID = "oc_p2p_" + m.OpenID
	}
	var mentions []map[string]any
	for i, id := range m.Mentions {
		mentions = append(mentions, map[string]any{"key": fmt.Sprintf("@_user_%d", i+1),
			"id": map[string]any{"open_id": id}, "name": "name" + strconv.Itoa(i+1), "tenant_key": "tenant_fake"})
	}
	content, _ := json.Marshal(map[string]string{"text": m.Text})
	ev := map[string]any{
		"schema": "2.0",
		"header": map[string]any{"event_id": m.EventID, "token": k.VerificationToken, "create_time": strconv.FormatInt(time.Now().UnixMilli(), 10),
			"event_type": "im.message.receive_v1", "tenant_key": "tenant_fake", "app_id": k.AppID},
		"event": map[string]any{
			"sender": map[string]any{"sender_id": map[string]any{"open_id": m.OpenID}, "sender_type": m.SenderType, "tenant_key": "tenant_fake"},
			"message": map[string]any{"message_id": m.MessageID, "chat_id": chatID, "chat_type": chatType,
				"message_type": m.MessageType, "content": string(content), "mentions": mentions,
				"create_time": strconv.FormatInt(time.Now().UnixMilli(), 10)},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

// ButtonValue finds the button labelled label in a Feishu card and
// returns its callback value, as a click on it would bring.
func ButtonValue(card json.RawMessage, label string) (map[string]any, error) {
	var root any
	if err := json.Unmarshal(card, &root); err != nil {
		return nil, err
	}
	var found map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["tag"] == "button" {
				if t, ok := x["text"].(map[string]any); ok && t["content"] == label {
					if bs, ok := x["behaviors"].([]any); ok && len(bs) > 0 {
						if b, ok := bs[0].(map[string]any); ok {
							found, _ = b["value"].(map[string]any)
						}
					}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(root)
	if found == nil {
		return nil, errors.New("feishutest: no button " + strconv.Quote(label) + " on the card")
	}
	return found, nil
}

// Header returns a card's header title.
func Header(card json.RawMessage) string {
	var c struct {
		Header struct {
			Title struct {
				Content string `json:"content"`
			} `json:"title"`
		} `json:"header"`
	}
	_ = json.Unmarshal(card, &c)
	return c.Header.Title.Content
}
