package feishu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"

	"cardflow/bot"
	"cardflow/flows"
)

// Bounds on what a click may bring. An input may be as long in bytes as
// the longest text the engine takes in characters (a character is at most
// four bytes), so that the engine, which counts characters, is the one
// that refuses a comment too long, in words the clicker reads.
const (
	maxValues     = 32
	maxPayloadLen = 2000
	maxValueBytes = 4 * flows.MaxCommentLength
)

// errInputRefused is a click whose input no field can hold: answered with
// a toast, not a failure Feishu would retry.
var errInputRefused = fmt.Errorf("feishu: click input too long or not text: %w", flows.ErrInvalidInput)

// dispatcher routes decrypted callbacks to our handlers: card clicks and
// messages to the bot. Over HTTP it sees only callbacks check passed;
// over the long connection, Feishu's own authenticated channel.
func (p *Platform) dispatcher() *dispatcher.EventDispatcher {
	d := dispatcher.NewEventDispatcher(p.cfg.VerificationToken.Reveal(), p.cfg.EncryptKey.Reveal())
	d.InitConfig(larkeventLogger(p))
	return d.OnP2CardActionTrigger(p.onCard).OnP2MessageReceiveV1(p.onMessage)
}

// clickAnswer is what a click is answered with, as stored for a retry.
type clickAnswer struct {
	Toast *callback.Toast `json:"toast,omitempty"`
	Card  *rawCard        `json:"card,omitempty"`
}

type rawCard struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// onCard runs a card click: the actor is the operator Feishu signed, the
// button's value says only what and on what.
func (p *Platform) onCard(ctx context.Context, ev *callback.CardActionTriggerEvent) (*callback.CardActionTriggerResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, answerWithin)
	defer cancel()
	click, err := decodeClick(ev)
	if errors.Is(err, errInputRefused) {
		p.log.InfoContext(ctx, "feishu: click input refused", "event", click.EventID, "err", err)
		info, _ := flows.Describe(err)
		text := info.Text(string(p.locale(ctx, click.PlatformUserID)))
		return &callback.CardActionTriggerResponse{Toast: &callback.Toast{Type: string(bot.ToastError), Content: text}}, nil
	}
	if err != nil {
		return nil, err
	}
	out, _, err := bot.AnswerOnce(ctx, p.deps.Store, Name, click.EventID, click.Fingerprint(), p.now(), func(ctx context.Context) ([]byte, error) {
		reply, err := p.deps.Inbound.Click(ctx, click)
		if err != nil {
			return nil, err
		}
		var ans clickAnswer
		if reply.Toast.Text != "" {
			ans.Toast = &callback.Toast{Type: string(reply.Toast.Kind), Content: reply.Toast.Text}
		}
		if reply.Card != nil {
			content, err := Render(*reply.Card, p.locale(ctx, click.PlatformUserID))
			if err != nil {
				return nil, err
			}
			ans.Card = &rawCard{Type: "raw", Data: content}
		}
		return json.Marshal(ans)
	})
	if err != nil {
		// The SDK writes the error into the answer to Feishu: say little
		// there, all here.
		p.log.WarnContext(ctx, "feishu: click not answered", "event", click.EventID, "err", err)
		return nil, errNotHandled
	}
	var ans clickAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		return nil, fmt.Errorf("feishu: click %s: stored answer: %w", click.EventID, err)
	}
	resp := &callback.CardActionTriggerResponse{Toast: ans.Toast}
	if ans.Card != nil {
		resp.Card = &callback.Card{Type: ans.Card.Type, Data: ans.Card.Data}
	}
	return resp, nil
}

// decodeClick reads a click: the event id, the operator, and the button's
// action, payload and values with the form's inputs. A button value that
// is not ours still makes a click (the engine answers that the card cannot
// be read); a click without operator or id, or with too much in it, does
// not.
func decodeClick(ev *callback.CardActionTriggerEvent) (bot.Click, error) {
	if ev == nil || ev.EventV2Base == nil || ev.EventV2Base.Header == nil || ev.Event == nil || ev.Event.Operator == nil || ev.Event.Action == nil {
		return bot.Click{}, errBadCallback
	}
	c := bot.Click{Platform: Name, EventID: ev.EventV2Base.Header.EventID, PlatformUserID: ev.Event.Operator.OpenID, Values: map[string]string{}}
	if ev.Event.Context != nil && len(ev.Event.Context.OpenMessageID) <= 128 {
		// The answer's card replaces this message's (see bot.Click).
		c.MessageID = ev.Event.Context.OpenMessageID
	}
	if c.EventID == "" || c.PlatformUserID == "" || len(c.PlatformUserID) > 128 {
		return bot.Click{}, errBadCallback
	}
	v := ev.Event.Action.Value
	a, _ := v["a"].(string)
	c.Action = flows.ActionKind(a)
	c.Payload, _ = v["p"].(string)
	if fixed, ok := v["v"].(map[string]any); ok {
		for k, x := range fixed {
			if s, ok := x.(string); ok {
				c.Values[k] = s
			}
		}
	}
	for k, x := range ev.Event.Action.FormValue {
		if strings.HasPrefix(k, "_") {
			continue // a form field never sets a button's fixed value
		}
		switch s := x.(type) {
		case string:
			c.Values[k] = s
		case float64, bool:
			c.Values[k] = fmt.Sprint(s)
		}
	}
	if len(c.Values) > maxValues || len(c.Payload) > maxPayloadLen || len(a) > 64 {
		return bot.Click{}, errBadCallback
	}
	// Keys first: a malformed click is refused as such whatever order the
	// map gives, and only a well-formed one is answered about its input.
	for k := range c.Values {
		if len(k) > 64 {
			return bot.Click{}, errBadCallback
		}
	}
	for _, s := range c.Values {
		if len(s) > maxValueBytes || !utf8.ValidString(s) {
			return c, errInputRefused
		}
	}
	return c, nil
}

// locale is the language a platform user reads cards in; Chinese when
// they are not in the directory.
func (p *Platform) locale(ctx context.Context, openID string) bot.Locale {
	u, err := p.deps.Directory.UserByPlatformID(ctx, Name, openID)
	if err != nil {
		return bot.LocaleZH
	}
	return bot.ReaderFor(u, Name).Locale
}
