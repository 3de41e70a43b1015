package wecom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"cardflow/bot"
	"cardflow/flows"
)

// clickID is a click's event id: WeCom gives a click none, so it is the
// clicker, the time, the card message and the button, joined (the button
// key hashed when long, to stay within the store's limit).
func clickID(ev Event) string {
	key := ev.EventKey
	if len(key) > 64 {
		sum := sha256.Sum256([]byte(key))
		key = "h" + hex.EncodeToString(sum[:12])
	}
	return strings.Join([]string{"click", ev.FromUserName, strconv.FormatInt(ev.CreateTime, 10), ev.TaskID, key}, "|")
}

// click hands a template card click to Inbound, once per click however
// often WeCom delivers it, and answers with a passive reply: nothing when
// it went through (the card is updated by the pipeline, with the fresh
// response_code the click brought), the reason as a text message when it
// did not.
func (p *Platform) click(ctx context.Context, ev Event) ([]byte, error) {
	if cmd, subject, ok := parseCommandKey(ev.EventKey); ok {
		return nil, p.command(ctx, ev, cmd, subject)
	}
	action, payload, values, kerr := ParseButtonKey(ev.EventKey)
	if kerr != nil {
		p.log.Info("click on a button cardflow does not know", "err", kerr)
	} else if pl, err := bot.ParsePayload(payload); err == nil {
		subject := pl.TaskID
		if subject == "" {
			subject = pl.InstanceID
		}
		if err := p.keepCode(ctx, ev, subject); err != nil {
			return nil, err
		}
	}
	id := clickID(ev)
	out, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, id, p.now(), func(ctx context.Context) ([]byte, error) {
		// The actor is FromUserName, which WeCom signed; the key only
		// says which button.
		reply, err := p.deps.Inbound.Click(ctx, bot.Click{Platform: Name, EventID: id, PlatformUserID: ev.FromUserName,
			Payload: payload, Action: action, Values: values})
		if err != nil {
			return nil, fmt.Errorf("wecom: click: %w", err)
		}
		if reply.Toast.Kind == bot.ToastSuccess || reply.Toast.Text == "" {
			return nil, nil
		}
		return p.textReply(ev.FromUserName, reply.Toast.Text)
	})
	if err == nil && !first {
		p.log.Debug("repeated click answered as before", "task_id", ev.TaskID)
	}
	return out, err
}

// keepCode records the response_code a click brings as the update code of
// the clicker's card about subject, before the click acts, so that the
// update its decision causes finds it. A card not on record (a command's
// answer) keeps none.
func (p *Platform) keepCode(ctx context.Context, ev Event, subject string) error {
	if ev.ResponseCode == "" || !validTaskID(ev.TaskID) || subject == "" {
		return nil
	}
	u, err := p.deps.Directory.UserByPlatformID(ctx, Name, ev.FromUserName)
	if errors.Is(err, flows.ErrNotFound) {
		return nil // Inbound answers it
	} else if err != nil {
		return fmt.Errorf("wecom: click by %s: %w", ev.FromUserName, err)
	}
	key := bot.CardKey{Platform: Name, Recipient: u.ID, Subject: subject}
	ok, err := p.deps.Store.SetCardToken(ctx, key, ev.TaskID, ev.ResponseCode, p.now().Add(updateCodeLife))
	if err != nil {
		return fmt.Errorf("wecom: keep update code of %s: %w", key, err)
	}
	if !ok {
		p.log.Debug("click on a card message not on record", "card", key.String())
	}
	return nil
}

// textReply is a passive reply: a text message to the user.
func (p *Platform) textReply(to, text string) ([]byte, error) {
	type reply struct {
		XMLName      xml.Name `xml:"xml"`
		ToUserName   cdata    `xml:"ToUserName"`
		FromUserName cdata    `xml:"FromUserName"`
		CreateTime   int64    `xml:"CreateTime"`
		MsgType      cdata    `xml:"MsgType"`
		Content      cdata    `xml:"Content"`
	}
	return xml.Marshal(reply{ToUserName: cdata{to}, FromUserName: cdata{p.cfg.CorpID}, CreateTime: p.now().Unix(),
		MsgType: cdata{"text"}, Content: cdata{text}})
}

// command runs the command of a card's choice ("my to-dos") as if the
// clicker had sent it, once per click, and sends the answer cards after
// the callback is answered.
func (p *Platform) command(ctx context.Context, ev Event, cmd, subject string) error {
	if err := p.keepCode(ctx, ev, subject); err != nil {
		return err
	}
	if cmd != cmdTodo {
		p.log.Info("card choice cardflow does not know", "cmd", cut(cmd, 32))
		return nil
	}
	id := clickID(ev)
	var cards []bot.Card
	_, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, id, p.now(), func(ctx context.Context) ([]byte, error) {
		var err error
		cards, err = p.deps.Inbound.Message(ctx, bot.Message{Platform: Name, EventID: id,
			PlatformUserID: ev.FromUserName, Text: "/todo"})
		if err != nil {
			return nil, fmt.Errorf("wecom: card choice %s: %w", cmd, err)
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	if first && len(cards) > 0 {
		p.replyLater(ev.FromUserName, cards)
	}
	return nil
}

// message hands a message to the app (a 1:1 chat) to Inbound once per
// MsgId, and sends the answer cards back to the sender after the callback
// is answered.
func (p *Platform) message(ctx context.Context, ev Event) error {
	if ev.MsgID == "" {
		p.log.Info("wecom message without MsgId ignored")
		return nil
	}
	text := strings.TrimSpace(ev.Content)
	var cards []bot.Card
	_, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, ev.MsgID, p.now(), func(ctx context.Context) ([]byte, error) {
		var err error
		cards, err = p.deps.Inbound.Message(ctx, bot.Message{Platform: Name, EventID: ev.MsgID,
			PlatformUserID: ev.FromUserName, Text: text})
		if err != nil {
			return nil, fmt.Errorf("wecom: message: %w", err)
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	if first && len(cards) > 0 {
		p.replyLater(ev.FromUserName, cards)
	}
	return nil
}

// replyLater sends cards to a user in the background, within the
// limiter's per-member limit, so the callback is answered in time.
func (p *Platform) replyLater(userID string, cards []bot.Card) {
	p.background.Add(1)
	go func() {
		defer p.background.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		go func() {
			select {
			case <-p.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		r := bot.Reader{PlatformUserID: userID, Locale: bot.LocaleZH}
		if u, err := p.deps.Directory.UserByPlatformID(ctx, Name, userID); err == nil {
			r = bot.ReaderFor(u, Name)
		}
		for _, c := range cards {
			if l := p.deps.Limiter; l != nil {
				if ok, _, err := l.Allow(ctx, Name+":"+userID); err != nil || !ok {
					p.log.Warn("wecom reply cards dropped by the rate limit", "user", userID, "left", len(cards), "err", err)
					return
				}
			}
			if _, err := p.Send(ctx, r, c); err != nil {
				p.log.Error("wecom reply card not sent", "user", userID, "err", err)
				return
			}
			cards = cards[1:]
		}
	}()
}
