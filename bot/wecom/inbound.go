package wecom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// often WeCom delivers it. The callback's answer is empty: a click that
// went through shows in the card, which the pipeline updates with the
// fresh response_code the click brought; one that did not is told why in
// a text message from the app, sent once after the callback is answered
// (an app message is sure to arrive, where a passive reply to a card
// event may not be shown).
func (p *Platform) click(ctx context.Context, ev Event) error {
	if cmd, subject, ok := parseCommandKey(ev.EventKey); ok {
		return p.command(ctx, ev, cmd, subject)
	}
	action, payload, values, kerr := ParseButtonKey(ev.EventKey)
	id := clickID(ev)
	// The actor is FromUserName, which WeCom signed; the key only says
	// which button.
	c := bot.Click{Platform: Name, EventID: id, PlatformUserID: ev.FromUserName, Payload: payload, Action: action, Values: values}
	if kerr != nil {
		p.log.Info("click on a button cardflow does not know", "err", kerr)
	} else if pl, err := bot.ParsePayload(payload); err == nil {
		subject := pl.TaskID
		if subject == "" {
			subject = pl.InstanceID
		}
		if err := p.keepCode(ctx, ev, c.Fingerprint(), subject); err != nil {
			return err
		}
	}
	out, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, id, c.Fingerprint(), p.now(), func(ctx context.Context) ([]byte, error) {
		reply, err := p.deps.Inbound.Click(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("wecom: click: %w", err)
		}
		if reply.Toast.Kind == bot.ToastSuccess || reply.Toast.Text == "" {
			return nil, nil
		}
		return []byte(reply.Toast.Text), nil
	})
	switch {
	case err != nil:
		return err
	case !first:
		p.log.Debug("repeated click answered as before", "task_id", ev.TaskID)
	case len(out) > 0:
		p.replyLater(ev.FromUserName, nil, string(out))
	}
	return nil
}

// keepCode records the response_code a click brings as the update code of
// the clicker's card about subject, before the click acts, so that the
// update its decision causes finds it. A card not on record (a command's
// answer) keeps none, and neither does a click WeCom delivers again (request
// is its fingerprint): its code was kept the first time, and may have been
// used since, and a code works once.
func (p *Platform) keepCode(ctx context.Context, ev Event, request, subject string) error {
	if ev.ResponseCode == "" || !validTaskID(ev.TaskID) || subject == "" {
		return nil
	}
	again, err := bot.Answered(ctx, p.deps.Store, Name, clickID(ev), request)
	if err != nil {
		return fmt.Errorf("wecom: click by %s: %w", ev.FromUserName, err)
	}
	if again {
		p.log.Debug("repeated click keeps no update code", "task_id", ev.TaskID)
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

// command runs the command of a card's choice ("my to-dos") as if the
// clicker had sent it, once per click, and sends the answer cards after
// the callback is answered.
func (p *Platform) command(ctx context.Context, ev Event, cmd, subject string) error {
	id := clickID(ev)
	m := bot.Message{Platform: Name, EventID: id, PlatformUserID: ev.FromUserName, Text: "/todo"}
	if err := p.keepCode(ctx, ev, m.Fingerprint(), subject); err != nil {
		return err
	}
	if cmd != cmdTodo {
		p.log.Info("card choice cardflow does not know", "cmd", cut(cmd, 32))
		return nil
	}
	var cards []bot.Card
	_, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, id, m.Fingerprint(), p.now(), func(ctx context.Context) ([]byte, error) {
		var err error
		cards, err = p.deps.Inbound.Message(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("wecom: card choice %s: %w", cmd, err)
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	if first && len(cards) > 0 {
		p.replyLater(ev.FromUserName, cards, "")
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
	m := bot.Message{Platform: Name, EventID: ev.MsgID, PlatformUserID: ev.FromUserName, Text: text}
	_, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, ev.MsgID, m.Fingerprint(), p.now(), func(ctx context.Context) ([]byte, error) {
		var err error
		cards, err = p.deps.Inbound.Message(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("wecom: message: %w", err)
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	if first && len(cards) > 0 {
		p.replyLater(ev.FromUserName, cards, "")
	}
	return nil
}

// replyLater sends cards, or a text, to a user in the background, within
// the limiter's per-member limit, so the callback is answered in time.
func (p *Platform) replyLater(userID string, cards []bot.Card, text string) {
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
		if text != "" {
			if err := p.allowReply(ctx, userID); err != nil {
				p.log.Warn("wecom reply text dropped", "user", userID, "err", err)
			} else if err := p.sendText(ctx, userID, text); err != nil {
				p.log.Error("wecom reply text not sent", "user", userID, "err", err)
			}
			return
		}
		r := bot.Reader{PlatformUserID: userID, Locale: bot.LocaleZH}
		if u, err := p.deps.Directory.UserByPlatformID(ctx, Name, userID); err == nil {
			r = bot.ReaderFor(u, Name)
		}
		for _, c := range cards {
			if err := p.allowReply(ctx, userID); err != nil {
				p.log.Warn("wecom reply cards dropped", "user", userID, "left", len(cards), "err", err)
				return
			}
			if _, err := p.Send(ctx, r, c); err != nil {
				p.log.Error("wecom reply card not sent", "user", userID, "err", err)
				return
			}
			cards = cards[1:]
		}
	}()
}

// allowReply asks the limiter for a message to userID, waiting while it
// says to (WeCom drops what exceeds a member's limit without a word), as
// long as ctx lets it.
func (p *Platform) allowReply(ctx context.Context, userID string) error {
	if p.deps.Limiter == nil {
		return nil
	}
	for {
		ok, after, err := p.deps.Limiter.Allow(ctx, Name+":"+userID)
		switch {
		case err != nil:
			return fmt.Errorf("rate limiter: %w", err)
		case ok:
			return nil
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < after {
			return fmt.Errorf("rate limit: next in %s, after this reply's time is up", after.Round(time.Second))
		}
		t := time.NewTimer(after)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// sendText sends a text message from the app to one user.
func (p *Platform) sendText(ctx context.Context, userID, text string) error {
	body := map[string]any{"touser": userID, "msgtype": "text", "agentid": p.cfg.AgentID,
		"text": map[string]string{"content": cut(text, 600)}}
	var out sendReply
	if err := p.api.call(ctx, "/cgi-bin/message/send", body, &out); err != nil {
		return fmt.Errorf("wecom: send text to %s: %w", userID, err)
	}
	return nil
}
