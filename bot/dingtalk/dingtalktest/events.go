package dingtalktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/card"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
)

// Click is a click on a card as DingTalk sends it on the stream.
type Click struct {
	OutTrackID string
	// UserID is the clicker, as DingTalk signs it.
	UserID string
	// Params are the button's callback params and the card's inputs.
	Params map[string]any
}

// ClickAnswer is the ack of a click and the answer it carries.
type ClickAnswer struct {
	MessageID string
	Ack       payload.DataFrameResponse
	// Response is the card response, nil when the ack carried none.
	Response *card.CardResponse
}

// Button is one of a card's buttons, as the template's buttons variable
// lists them.
type Button struct {
	Label string `json:"label"`
	Style string `json:"style"`
	ID    string `json:"id"`
}

// Buttons reads a card's buttons variable.
func (c Card) Buttons() []Button {
	var out []Button
	_ = json.Unmarshal([]byte(c.Params["buttons"]), &out)
	return out
}

// ClickPayload is the data of the stream frame DingTalk sends for a click.
func ClickPayload(c Click) []byte {
	content, _ := json.Marshal(map[string]any{"cardPrivateData": map[string]any{
		"actionIds": []string{"action"}, "params": c.Params}})
	b, _ := json.Marshal(map[string]any{"type": "actionCallback", "outTrackId": c.OutTrackID, "corpId": "dingcorp",
		"userId": c.UserID, "spaceType": "IM", "spaceId": "space", "userIdType": 1, "extension": "{}",
		"content": string(content)})
	return b
}

// Click sends a click on the stream and returns its answer; a card
// response's data is applied to the card, as DingTalk shows it to the
// clicker at once.
func (s *Server) Click(ctx context.Context, c Click) (ClickAnswer, error) {
	ack, id, err := s.Push(ctx, TopicCard, ClickPayload(c))
	if err != nil {
		return ClickAnswer{MessageID: id}, err
	}
	out := ClickAnswer{MessageID: id, Ack: ack}
	if ack.Code != payload.DataFrameResponseStatusCodeKOK || ack.Data == "" {
		return out, nil
	}
	var data struct {
		Response *card.CardResponse `json:"response"`
	}
	if err := json.Unmarshal([]byte(ack.Data), &data); err != nil {
		return out, fmt.Errorf("dingtalktest: click answer is not JSON: %w", err)
	}
	out.Response = data.Response
	if r := data.Response; r != nil && r.CardData != nil {
		s.mu.Lock()
		if cd, ok := s.cards[c.OutTrackID]; ok {
			byKey := r.CardUpdateOptions != nil && r.CardUpdateOptions.UpdateCardDataByKey
			cd.apply(r.CardData.CardParamMap, byKey)
			cd.Answers++
			s.notify()
		}
		s.mu.Unlock()
	}
	return out, nil
}

// ClickButton clicks the button of a card whose label starts with label,
// as userID, with the card's inputs.
func (s *Server) ClickButton(ctx context.Context, outTrackID, userID, label string, inputs map[string]string) (ClickAnswer, error) {
	c, ok := s.Card(outTrackID)
	if !ok {
		return ClickAnswer{}, fmt.Errorf("dingtalktest: no card %s", outTrackID)
	}
	for _, b := range c.Buttons() {
		if strings.HasPrefix(b.Label, label) {
			params := map[string]any{"id": b.ID}
			for k, v := range inputs {
				params[k] = v
			}
			return s.Click(ctx, Click{OutTrackID: outTrackID, UserID: userID, Params: params})
		}
	}
	return ClickAnswer{}, fmt.Errorf("dingtalktest: card %s has no button %q", outTrackID, label)
}

// Message is a message to the robot.
type Message struct {
	MsgID string
	// UserID is the sender's staffId; ChatID a group's conversationId
	// ("" for the robot's chat with the sender).
	UserID, ChatID string
	Text           string
}

// MessagePayload is the data DingTalk sends for a message to the robot.
func MessagePayload(m Message) []byte {
	kind := "1"
	if m.ChatID != "" {
		kind = "2"
	}
	if m.MsgID == "" {
		m.MsgID = "msg" + randomHex(8)
	}
	b, _ := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": " " + m.Text},
		"msgId": m.MsgID, "createAt": 1700000000000, "conversationType": kind, "conversationId": m.ChatID,
		"senderStaffId": m.UserID, "senderId": "$:LWCP_v1:$" + m.UserID, "senderNick": "nick", "senderCorpId": "dingcorp",
		"chatbotUserId": "$:LWCP_v1:$bot", "robotCode": "robot", "isInAtList": m.ChatID != "",
		"sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=s", "sessionWebhookExpiredTime": 1700000600000})
	return b
}

// SendMessage sends a message to the robot on the stream and returns its
// ack.
func (s *Server) SendMessage(ctx context.Context, m Message) (payload.DataFrameResponse, error) {
	ack, _, err := s.Push(ctx, TopicMessage, MessagePayload(m))
	return ack, err
}

// FireMessage posts a message to the robot at url, as DingTalk does in
// webhook (HTTP) mode, signed at timestampMillis with the app secret; it
// returns the status and body of the answer.
func (s *Server) FireMessage(ctx context.Context, url string, m Message, timestampMillis int64) (int, string, error) {
	ts := strconv.FormatInt(timestampMillis, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(MessagePayload(m))))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", sign(s.opts.ClientSecret, ts))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, string(b), nil
}
