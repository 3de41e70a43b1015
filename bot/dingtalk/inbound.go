package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/card"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/utils"

	"cardflow/bot"
	"cardflow/flows"
)

// Bounds of what a callback may carry.
const (
	maxData   = 64 << 10 // a frame's data, an HTTP callback's body
	maxIDLen  = 128      // a message id, a user id, a conversation id
	maxValues = 20       // a click's inputs
	// maxValueBytes bounds one input: as long in bytes as the longest text
	// the engine takes in characters (a character is at most four bytes),
	// so that the engine, which counts characters, refuses a comment too
	// long in words the clicker reads.
	maxValueBytes = 4 * flows.MaxCommentLength
	maxTextLen    = 2000 // a message to the robot, in characters
)

// errInputRefused is a click whose input no field can hold: answered with
// a toast, not a refusal the clicker never hears of.
var errInputRefused = fmt.Errorf("dingtalk: click input too long or not text: %w", flows.ErrInvalidInput)

// Private variables of the card the clicker alone sees: the toast of the
// click's answer (see the package doc).
const (
	ParamToast     = "toast"
	ParamToastKind = "toast_kind"
)

// errRefused marks a callback refused for what it is (malformed,
// oversized, unsigned): answering it again would not help.
var errRefused = errors.New("refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRefused, fmt.Sprintf(format, args...))
}

// decodeFrame reads a stream frame and checks its envelope.
func decodeFrame(raw []byte) (*payload.DataFrame, error) {
	var df payload.DataFrame
	if err := json.Unmarshal(raw, &df); err != nil {
		return nil, refuse("frame is not JSON")
	}
	switch df.Type {
	case utils.SubscriptionTypeKSystem, utils.SubscriptionTypeKCallback, utils.SubscriptionTypeKEvent:
	default:
		return nil, refuse("unknown frame type")
	}
	if df.Headers == nil || !validID(df.GetMessageId()) {
		return nil, refuse("frame without a valid message id")
	}
	return &df, nil
}

// validID holds for an id DingTalk could have sent: short, printable.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// handleFrame answers a CALLBACK frame: the ack DingTalk waits for, with
// the answer's data. It is bounded by timeout, and not cut short by the
// connection's end: an answer half-done is better finished.
func (p *Platform) handleFrame(ctx context.Context, df *payload.DataFrame, timeout time.Duration) *payload.DataFrameResponse {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var data []byte
	var err error
	switch topic := df.GetTopic(); {
	case len(df.Data) > maxData:
		err = refuse("frame data over %d bytes", maxData)
	case topic == TopicCardCallback:
		data, err = p.onCard(ctx, df.GetMessageId(), []byte(df.Data))
	case topic == TopicBotMessage:
		data, err = p.onBotMessage(ctx, []byte(df.Data))
	default:
		err = refuse("no handler for the topic")
	}
	var r *payload.DataFrameResponse
	switch {
	case errors.Is(err, errRefused):
		p.log.Warn("stream callback refused", "topic", df.GetTopic(), "reason", err.Error())
		r = payload.NewDataFrameResponse(400)
		r.Message = "bad request"
	case err != nil:
		// DingTalk redelivers: the next try may succeed.
		p.log.Error("stream callback failed", "topic", df.GetTopic(), "err", err)
		r = payload.NewDataFrameResponse(payload.DataFrameResponseStatusCodeKInternalError)
		r.Message = "internal error"
	default:
		r = payload.NewSuccessDataFrameResponse()
		r.Message = "ok"
		r.Data = string(data)
	}
	r.SetHeader(payload.DataFrameHeaderKMessageId, df.GetMessageId())
	r.SetHeader(payload.DataFrameHeaderKContentType, payload.DataFrameContentTypeKJson)
	return r
}

// click is a decoded card click.
type click struct {
	userID, payload string
	// outTrackID is the card instance clicked, which the answer updates.
	outTrackID string
	action     flows.ActionKind
	values     map[string]string
}

// decodeClick reads a card callback: the actor is its userId, which
// DingTalk sets; the button id says what and on what; the other params
// are the card's inputs.
func decodeClick(data []byte) (click, error) {
	if len(data) > maxData {
		return click{}, refuse("callback over %d bytes", maxData)
	}
	var req card.CardRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return click{}, refuse("callback is not JSON")
	}
	if !validID(req.UserId) {
		return click{}, refuse("callback without a valid userId")
	}
	var act card.PrivateCardActionData
	if err := json.Unmarshal([]byte(req.Content), &act); err != nil {
		return click{}, refuse("callback content is not JSON")
	}
	params := act.CardPrivateData.Params
	id, _ := params[ParamButton].(string)
	action, pl, values, ok := ParseButtonID(id)
	if !ok {
		return click{}, refuse("callback without a button id cardflow renders")
	}
	if len(params) > maxValues+1 {
		return click{}, refuse("callback with over %d inputs", maxValues)
	}
	for k, v := range params {
		if k == ParamButton || strings.HasPrefix(k, "_") {
			continue // only the button fixes "_" values
		}
		s, ok := inputValue(v)
		if !ok || !validID(k) || len(k) > 64 {
			return click{}, refuse("callback input is not a string")
		}
		values[k] = s
	}
	c := click{userID: req.UserId, action: action, payload: pl, values: values}
	if validID(req.OutTrackId) {
		c.outTrackID = req.OutTrackId
	}
	for _, s := range values {
		if len(s) > maxValueBytes || !utf8.ValidString(s) {
			return c, errInputRefused
		}
	}
	return c, nil
}

// inputValue reads an input's value: a string, or a number or a switch a
// template may send as such.
func inputValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case nil:
		return "", true
	}
	return "", false
}

// onCard answers a click: the engine acts once per frame id, and the
// answer (the clicked card as it now stands, and a toast for the clicker
// alone) is recorded, so a redelivered frame gets the same answer.
func (p *Platform) onCard(ctx context.Context, frameID string, data []byte) ([]byte, error) {
	c, err := decodeClick(data)
	if errors.Is(err, errInputRefused) {
		p.log.Info("click input refused", "event", frameID, "err", err)
		info, _ := flows.Describe(err)
		toast := bot.Toast{Kind: bot.ToastError, Text: info.Text(string(p.locale(ctx, c.userID)))}
		return json.Marshal(map[string]any{"response": p.cardResponse(ctx, c.userID, bot.ClickReply{Toast: toast})})
	}
	if err != nil {
		return nil, err
	}
	bc := bot.Click{Platform: Name, EventID: frameID, PlatformUserID: c.userID,
		Payload: c.payload, Action: c.action, Values: c.values, MessageID: c.outTrackID}
	out, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, frameID, bc.Fingerprint(), p.now(), func(ctx context.Context) ([]byte, error) {
		reply, err := p.deps.Inbound.Click(ctx, bc)
		if err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"response": p.cardResponse(ctx, c.userID, reply)})
	})
	if err != nil {
		return nil, fmt.Errorf("dingtalk: click %s: %w", frameID, err)
	}
	if !first {
		p.log.Info("redelivered click answered as before", "event", frameID)
	}
	return out, nil
}

// cardResponse is the answer DingTalk shows the clicker at once: the card
// as it now stands (for everyone who sees it) and the toast (for the
// clicker alone).
func (p *Platform) cardResponse(ctx context.Context, userID string, reply bot.ClickReply) card.CardResponse {
	r := card.CardResponse{
		CardUpdateOptions: &card.CardUpdateOptions{UpdateCardDataByKey: true, UpdatePrivateDataByKey: true},
		UserPrivateData: &card.CardDataDto{CardParamMap: map[string]string{
			ParamToast: reply.Toast.Text, ParamToastKind: string(reply.Toast.Kind)}},
	}
	if reply.Card != nil {
		r.CardData = &card.CardDataDto{CardParamMap: Render(*reply.Card, p.locale(ctx, userID))}
	}
	return r
}

// locale is the language of a DingTalk user, Chinese when unknown.
func (p *Platform) locale(ctx context.Context, userID string) bot.Locale {
	if p.deps.Directory == nil {
		return bot.LocaleZH
	}
	u, err := p.deps.Directory.UserByPlatformID(ctx, Name, userID)
	if err != nil {
		return bot.LocaleZH
	}
	return bot.ReaderFor(u, Name).Locale
}

// decodeMessage reads a message to the robot: the actor is senderStaffId;
// in a group (conversationType 2) the robot gets only messages that @ it,
// and DingTalk leaves the mention out of the text.
func decodeMessage(data []byte) (bot.Message, error) {
	if len(data) > maxData {
		return bot.Message{}, refuse("message over %d bytes", maxData)
	}
	var m chatbot.BotCallbackDataModel
	if err := json.Unmarshal(data, &m); err != nil {
		return bot.Message{}, refuse("message is not JSON")
	}
	if !validID(m.MsgId) || !validID(m.SenderStaffId) {
		return bot.Message{}, refuse("message without a valid msgId and senderStaffId")
	}
	out := bot.Message{Platform: Name, EventID: "msg:" + m.MsgId, PlatformUserID: m.SenderStaffId,
		Text: strings.TrimSpace(m.Text.Content)}
	switch m.ConversationType {
	case "1":
	case "2":
		if !validID(m.ConversationId) {
			return bot.Message{}, refuse("group message without a conversationId")
		}
		out.ChatID = m.ConversationId
	default:
		return bot.Message{}, refuse("unknown conversationType")
	}
	if m.Msgtype != "text" {
		out.Text = "" // a picture or a file: the router answers with help
	}
	if !utf8.ValidString(out.Text) || utf8.RuneCountInString(out.Text) > maxTextLen {
		return bot.Message{}, refuse("message text over %d characters or not text", maxTextLen)
	}
	return out, nil
}

// onBotMessage answers a message to the robot with the router's cards,
// delivered as interactive cards to the sender (or the group), once per
// msgId however often DingTalk delivers it.
func (p *Platform) onBotMessage(ctx context.Context, data []byte) ([]byte, error) {
	m, err := decodeMessage(data)
	if err != nil {
		return nil, err
	}
	out, first, err := bot.AnswerOnce(ctx, p.deps.Store, Name, m.EventID, m.Fingerprint(), p.now(), func(ctx context.Context) ([]byte, error) {
		cards, err := p.deps.Inbound.Message(ctx, m)
		if err != nil {
			return nil, err
		}
		return json.Marshal(cards)
	})
	if err != nil {
		return nil, fmt.Errorf("dingtalk: message %s: %w", m.EventID, err)
	}
	if !first {
		p.log.Info("redelivered message not answered again", "event", m.EventID)
		return nil, nil
	}
	var cards []bot.Card
	if err := json.Unmarshal(out, &cards); err != nil {
		return nil, fmt.Errorf("dingtalk: message %s: decode answer: %w", m.EventID, err)
	}
	to := bot.Reader{PlatformUserID: m.PlatformUserID, ChatID: m.ChatID, Locale: p.locale(ctx, m.PlatformUserID)}
	p.reply(to, cards)
	return nil, nil
}

// reply sends the answer cards after the callback is answered: DingTalk
// wants its ack at once, and a card that fails to go out is logged (the
// sender can ask again).
func (p *Platform) reply(to bot.Reader, cards []bot.Card) {
	if len(cards) == 0 {
		return
	}
	p.bgMu.Lock()
	defer p.bgMu.Unlock()
	if p.stopped {
		p.log.Warn("answer cards not sent: shutting down", "cards", len(cards))
		return
	}
	p.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*p.cfg.Timeout)
		defer cancel()
		for _, c := range cards {
			if _, err := p.Send(ctx, to, c); err != nil {
				p.log.Error("answer card not sent", "subject", c.Subject, "err", err)
			}
		}
	})
}
