package dingtalk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"cardflow/bot"
	"cardflow/queue"
)

// Open space ids: a card in the robot's chat with one person, or in a
// group the robot is in.
const (
	spaceUser  = "dtv1.card//IM_ROBOT."
	spaceGroup = "dtv1.card//IM_GROUP."
)

// cardData is a card's variables as the card API takes them.
type cardData struct {
	CardParamMap map[string]string `json:"cardParamMap"`
}

type createAndDeliver struct {
	OutTrackID     string   `json:"outTrackId"`
	CardTemplateID string   `json:"cardTemplateId"`
	CallbackType   string   `json:"callbackType"`
	CardData       cardData `json:"cardData"`
	OpenSpaceID    string   `json:"openSpaceId"`
	UserIDType     int      `json:"userIdType"`

	IMRobotOpenSpaceModel   *spaceModel   `json:"imRobotOpenSpaceModel,omitempty"`
	IMRobotOpenDeliverModel *deliverModel `json:"imRobotOpenDeliverModel,omitempty"`
	IMGroupOpenSpaceModel   *spaceModel   `json:"imGroupOpenSpaceModel,omitempty"`
	IMGroupOpenDeliverModel *deliverModel `json:"imGroupOpenDeliverModel,omitempty"`
}

type spaceModel struct {
	SupportForward bool `json:"supportForward"`
}

type deliverModel struct {
	SpaceType string `json:"spaceType,omitempty"`
	RobotCode string `json:"robotCode"`
}

type deliverAnswer struct {
	Success bool `json:"success"`
	Result  struct {
		OutTrackID     string `json:"outTrackId"`
		DeliverResults []struct {
			SpaceType string `json:"spaceType"`
			SpaceID   string `json:"spaceId"`
			Success   bool   `json:"success"`
			ErrorMsg  string `json:"errorMsg"`
		} `json:"deliverResults"`
	} `json:"result"`
}

// Send delivers c as a new interactive card: in the robot's chat with the
// reader, or in the reader's group (ChatID, an openConversationId). The
// message id it returns is the card's outTrackId, which updates and clicks
// name it by.
func (p *Platform) Send(ctx context.Context, to bot.Reader, c bot.Card) (bot.Sent, error) {
	id := outTrackID(to, c)
	req := createAndDeliver{OutTrackID: id, CardTemplateID: p.cfg.CardTemplateID, CallbackType: "STREAM",
		CardData: cardData{Render(c, to.Locale)}, UserIDType: 1}
	switch {
	case to.ChatID != "":
		req.OpenSpaceID = spaceGroup + to.ChatID
		req.IMGroupOpenSpaceModel = &spaceModel{}
		req.IMGroupOpenDeliverModel = &deliverModel{RobotCode: p.cfg.RobotCode}
	case to.PlatformUserID != "":
		req.OpenSpaceID = spaceUser + to.PlatformUserID
		req.IMRobotOpenSpaceModel = &spaceModel{}
		req.IMRobotOpenDeliverModel = &deliverModel{SpaceType: "IM_ROBOT", RobotCode: p.cfg.RobotCode}
	default:
		return bot.Sent{}, queue.Permanent(fmt.Errorf("dingtalk: send card %s: the reader has no dingtalk id", c.Subject))
	}
	var out deliverAnswer
	if err := p.call(ctx, http.MethodPost, pathCreateDeliver, req, &out); err != nil {
		return bot.Sent{}, fmt.Errorf("dingtalk: send card %s: %w", c.Subject, err)
	}
	if !out.Success {
		return bot.Sent{}, queue.Permanent(fmt.Errorf("dingtalk: send card %s: the platform did not report success", c.Subject))
	}
	for _, r := range out.Result.DeliverResults {
		if !r.Success {
			// The card exists but did not reach the space: an unknown
			// user, a group without the robot. Trying again changes nothing.
			return bot.Sent{}, queue.Permanent(fmt.Errorf("dingtalk: send card %s: not delivered to %s: %s",
				c.Subject, r.SpaceType, truncate(r.ErrorMsg, 200)))
		}
	}
	return bot.Sent{MessageID: id}, nil
}

type updateCard struct {
	OutTrackID        string        `json:"outTrackId"`
	CardData          cardData      `json:"cardData"`
	CardUpdateOptions updateOptions `json:"cardUpdateOptions"`
	UserIDType        int           `json:"userIdType"`
}

type updateOptions struct {
	UpdateCardDataByKey bool `json:"updateCardDataByKey"`
}

// Update replaces the variables of the card m shows, for everyone who sees
// it.
func (p *Platform) Update(ctx context.Context, to bot.Reader, m bot.CardMessage, c bot.Card) (bot.Sent, error) {
	if m.MessageID == "" {
		return bot.Sent{}, queue.Permanent(fmt.Errorf("dingtalk: update card %s: no message id", c.Subject))
	}
	req := updateCard{OutTrackID: m.MessageID, CardData: cardData{Render(c, to.Locale)},
		CardUpdateOptions: updateOptions{UpdateCardDataByKey: true}, UserIDType: 1}
	var out struct {
		Success bool `json:"success"`
		Result  bool `json:"result"`
	}
	if err := p.call(ctx, http.MethodPut, pathUpdateCard, req, &out); err != nil {
		return bot.Sent{}, fmt.Errorf("dingtalk: update card %s: %w", m.MessageID, err)
	}
	if !out.Success {
		return bot.Sent{}, queue.Permanent(fmt.Errorf("dingtalk: update card %s: %w", m.MessageID, errNoSuccess))
	}
	return bot.Sent{MessageID: m.MessageID}, nil
}

var errNoSuccess = errors.New("the platform did not report success")

// outTrackID names a new card message: the reader and subject's hash, for
// reading logs, and a random part, since each Send is a new message.
func outTrackID(to bot.Reader, c bot.Card) string {
	who := to.PlatformUserID
	if to.ChatID != "" {
		who = "g:" + to.ChatID
	}
	sum := sha256.Sum256([]byte(who + "\x00" + c.Subject))
	var r [6]byte
	_, _ = rand.Read(r[:]) // crypto/rand does not fail
	return "cf-" + hex.EncodeToString(sum[:6]) + "-" + hex.EncodeToString(r[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
