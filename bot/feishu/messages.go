package feishu

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"cardflow/bot"
)

// maxText bounds a command's text.
const maxText = 2000

func larkeventLogger(p *Platform) larkevent.OptionFunc { return larkevent.WithLogger(sdkLogger{p.log}) }

// onMessage answers a message to the bot: in a direct chat, or in a group
// when the bot is @-mentioned. Feishu may deliver a message more than once
// (under different event ids), so it is answered once per message id. The
// answer cards are sent as replies after the callback is answered, since
// Feishu wants its answer within 3 s.
func (p *Platform) onMessage(ctx context.Context, ev *larkim.P2MessageReceiveV1) error {
	ctx, cancel := context.WithTimeout(ctx, answerWithin)
	defer cancel()
	m, ok, err := p.decodeMessage(ctx, ev)
	if err != nil || !ok {
		return err
	}
	out, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, m.EventID, m.Fingerprint(), p.now(), func(ctx context.Context) ([]byte, error) {
		cards, err := p.deps.Inbound.Message(ctx, m)
		if err != nil {
			return nil, err
		}
		loc := p.locale(ctx, m.PlatformUserID)
		rendered := make([]json.RawMessage, 0, len(cards))
		for _, c := range cards {
			b, err := Render(c, loc)
			if err != nil {
				return nil, err
			}
			rendered = append(rendered, b)
		}
		return json.Marshal(rendered)
	})
	if err != nil {
		p.log.WarnContext(ctx, "feishu: message not answered", "message", m.EventID, "err", err)
		return errNotHandled
	}
	if !first {
		return nil
	}
	var cards []json.RawMessage
	if err := json.Unmarshal(out, &cards); err != nil {
		return fmt.Errorf("feishu: message %s: stored answer: %w", m.EventID, err)
	}
	p.sendReplies(ctx, m.EventID, cards)
	return nil
}

// sendReplies sends the answer cards in the background, bounded by the
// platform's timeout; Close waits for them.
func (p *Platform) sendReplies(ctx context.Context, messageID string, cards []json.RawMessage) {
	p.replyMu.Lock()
	if p.closed {
		p.replyMu.Unlock()
		p.log.WarnContext(ctx, "feishu: closing; message not answered", "message", messageID)
		return
	}
	p.replies.Add(1)
	p.replyMu.Unlock()
	go func() {
		defer p.replies.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*p.cfg.Timeout)
		defer cancel()
		for i, c := range cards {
			if err := p.reply(ctx, messageID, i, c); err != nil {
				p.log.WarnContext(ctx, "feishu: answer to a message not sent", "message", messageID, "err", err)
				return
			}
		}
	}()
}

// decodeMessage reads a message event as a command to the bot; ok is false
// for what is not one (another bot's message, a picture, a group message
// that does not @ the bot).
func (p *Platform) decodeMessage(ctx context.Context, ev *larkim.P2MessageReceiveV1) (bot.Message, bool, error) {
	if ev == nil || ev.Event == nil || ev.Event.Message == nil || ev.Event.Sender == nil || ev.Event.Sender.SenderId == nil {
		return bot.Message{}, false, errBadCallback
	}
	msg, sender := ev.Event.Message, ev.Event.Sender
	if str(sender.SenderType) != "user" || str(msg.MessageType) != "text" {
		return bot.Message{}, false, nil
	}
	m := bot.Message{Platform: Name, EventID: str(msg.MessageId), PlatformUserID: str(sender.SenderId.OpenId)}
	if m.EventID == "" || m.PlatformUserID == "" || len(m.EventID) > 128 || len(m.PlatformUserID) > 128 {
		return bot.Message{}, false, errBadCallback
	}
	var content struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(str(msg.Content)), &content); err != nil {
		return bot.Message{}, false, errBadCallback
	}
	text := content.Text
	mentioned := false
	var self string
	if str(msg.ChatType) == "group" {
		var err error
		if self, err = p.selfOpenID(ctx); err != nil {
			return bot.Message{}, false, err
		}
		m.ChatID = str(msg.ChatId)
	}
	for _, mn := range msg.Mentions {
		if mn == nil || mn.Key == nil {
			continue
		}
		if mn.Id != nil && self != "" && str(mn.Id.OpenId) == self {
			mentioned = true
			text = strings.ReplaceAll(text, *mn.Key, "")
			continue
		}
		text = strings.ReplaceAll(text, *mn.Key, "@"+str(mn.Name))
	}
	if m.ChatID != "" && !mentioned {
		return bot.Message{}, false, nil
	}
	m.Text = strings.TrimSpace(text)
	if len(m.Text) > maxText {
		return bot.Message{}, false, errBadCallback
	}
	return m, true, nil
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
