package feishu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"cardflow/bot"
	"cardflow/queue"
)

// Codes Feishu answers with.
const (
	codeTokenInvalid       = 99991663 // tenant access token invalid
	codeAppTokenInvalid    = 99991664 // app access token invalid
	codeTokenExpired       = 99991671 // token invalid or expired
	codeRateLimited        = 99991400 // the API's rate limit
	codeReaderRateLimited  = 230020   // about 5 a second per reader or chat
	defaultRateLimitedWait = time.Second
)

// tokenPath is where a self-built app gets its tenant access token.
const tokenPath = "/open-apis/auth/v3/tenant_access_token/internal"

// fetchToken asks Feishu for a tenant access token.
func (p *Platform) fetchToken(ctx context.Context) (string, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{"app_id": p.cfg.AppID, "app_secret": p.cfg.AppSecret.Reveal()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.BaseURL+tokenPath, bytes.NewReader(body))
	if err != nil {
		return "", 0, fmt.Errorf("feishu: token: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := p.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("feishu: token: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", 0, fmt.Errorf("feishu: token: %w", err)
	}
	var out struct {
		Code   int    `json:"code"`
		Msg    string `json:"msg"`
		Token  string `json:"tenant_access_token"`
		Expire int    `json:"expire"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", 0, fmt.Errorf("feishu: token: HTTP %d, not JSON", resp.StatusCode)
	}
	if out.Code != 0 || resp.StatusCode != http.StatusOK {
		return "", 0, classify(fmt.Errorf("feishu: token: HTTP %d, code %d: %s", resp.StatusCode, out.Code, out.Msg), resp.StatusCode, out.Code, resp.Header)
	}
	return out.Token, time.Duration(out.Expire) * time.Second, nil
}

// call runs one API call with a tenant token, and once more with a fresh
// token when Feishu says the token is no longer valid. The result's code
// is checked whatever the HTTP status: Feishu says most failures in the
// body.
func (p *Platform) call(ctx context.Context, op string, do func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, error)) (*larkcore.ApiResp, error) {
	for attempt := 0; ; attempt++ {
		tok, err := p.tokens.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("feishu: %s: %w", op, err)
		}
		resp, err := do(ctx, larkcore.WithTenantAccessToken(tok))
		if err != nil {
			// Transport failures, timeouts, a body that is not JSON: another
			// try may pass.
			return nil, fmt.Errorf("feishu: %s: %w", op, err)
		}
		var ce larkcore.CodeError
		_ = json.Unmarshal(resp.RawBody, &ce) // a body without a code has code 0
		switch {
		case isTokenCode(ce.Code) && attempt == 0:
			p.tokens.Invalidate(tok)
			continue
		case ce.Code == 0 && resp.StatusCode/100 == 2:
			return resp, nil
		}
		return nil, classify(fmt.Errorf("feishu: %s: HTTP %d, code %d: %s", op, resp.StatusCode, ce.Code, ce.Msg), resp.StatusCode, ce.Code, resp.Header)
	}
}

func isTokenCode(code int) bool {
	return code == codeTokenInvalid || code == codeAppTokenInvalid || code == codeTokenExpired
}

// classify says whether a failed call may pass later: rate limited (after
// Feishu's reset), retryable (a 5xx, an invalid token that a fresh one may
// fix), or permanent (anything else Feishu refused: a bad card, an unknown
// reader, a message too old to change).
func classify(err error, status, code int, h http.Header) error {
	switch {
	case status == http.StatusTooManyRequests || code == codeRateLimited || code == codeReaderRateLimited:
		after := defaultRateLimitedWait
		if s, perr := strconv.Atoi(h.Get("x-ogw-ratelimit-reset")); perr == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return queue.RateLimited(err, after)
	case status >= 500, isTokenCode(code):
		return err
	}
	return queue.Permanent(err)
}

// dedupeKey is the uuid Feishu deduplicates a send by (for an hour): the
// same card state sent to the same reader again, after a lost answer,
// gives the message sent the first time rather than a second one.
func dedupeKey(parts ...string) string {
	h := sha256.New()
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Send sends c as a card message to the reader, or to the group chat when
// to.ChatID is set.
func (p *Platform) Send(ctx context.Context, to bot.Reader, c bot.Card) (bot.Sent, error) {
	idType, id := "open_id", to.PlatformUserID
	if to.ChatID != "" {
		idType, id = "chat_id", to.ChatID
	}
	if id == "" {
		return bot.Sent{}, queue.Permanent(fmt.Errorf("feishu: send card %s: the reader has no feishu id", c.Subject))
	}
	content, err := Render(c, to.Locale)
	if err != nil {
		return bot.Sent{}, queue.Permanent(err)
	}
	uuid := dedupeKey(idType, id, c.Subject, strconv.FormatInt(c.Version, 10), c.Digest())
	req := larkim.NewCreateMessageReqBuilder().ReceiveIdType(idType).Body(larkim.NewCreateMessageReqBodyBuilder().
		ReceiveId(id).MsgType("interactive").Content(string(content)).Uuid(uuid).Build()).Build()
	var messageID string
	_, err = p.call(ctx, "send card "+c.Subject, func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, error) {
		resp, err := p.client.Im.Message.Create(ctx, req, opt)
		if err != nil {
			return nil, err
		}
		if resp.Data != nil && resp.Data.MessageId != nil {
			messageID = *resp.Data.MessageId
		}
		return resp.ApiResp, nil
	})
	if err != nil {
		return bot.Sent{}, err
	}
	if messageID == "" {
		return bot.Sent{}, fmt.Errorf("feishu: send card %s: no message id in the answer", c.Subject)
	}
	return bot.Sent{MessageID: messageID}, nil
}

// Update replaces the card of message m with c (PATCH): every copy of a
// shared card changes, whoever looks at it.
func (p *Platform) Update(ctx context.Context, to bot.Reader, m bot.CardMessage, c bot.Card) (bot.Sent, error) {
	if m.MessageID == "" {
		return bot.Sent{}, queue.Permanent(fmt.Errorf("feishu: patch card %s: no message id", c.Subject))
	}
	content, err := Render(c, to.Locale)
	if err != nil {
		return bot.Sent{}, queue.Permanent(err)
	}
	req := larkim.NewPatchMessageReqBuilder().MessageId(m.MessageID).
		Body(larkim.NewPatchMessageReqBodyBuilder().Content(string(content)).Build()).Build()
	_, err = p.call(ctx, "patch card "+m.MessageID, func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, error) {
		resp, err := p.client.Im.Message.Patch(ctx, req, opt)
		if err != nil {
			return nil, err
		}
		return resp.ApiResp, nil
	})
	if err != nil {
		return bot.Sent{}, err
	}
	return bot.Sent{MessageID: m.MessageID}, nil
}

// reply answers message messageID with a card, in its chat.
func (p *Platform) reply(ctx context.Context, messageID string, i int, content []byte) error {
	req := larkim.NewReplyMessageReqBuilder().MessageId(messageID).Body(larkim.NewReplyMessageReqBodyBuilder().
		MsgType("interactive").Content(string(content)).Uuid(dedupeKey("reply", messageID, strconv.Itoa(i))).Build()).Build()
	_, err := p.call(ctx, "reply to "+messageID, func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, error) {
		resp, err := p.client.Im.Message.Reply(ctx, req, opt)
		if err != nil {
			return nil, err
		}
		return resp.ApiResp, nil
	})
	return err
}

// botOpenIDPath is where the bot learns its own open_id, to tell an
// @-mention of itself in a group.
const botOpenIDPath = "/open-apis/bot/v3/info"

// selfOpenID returns the bot's open_id, asked of Feishu once (callers
// wait for the first asker).
func (p *Platform) selfOpenID(ctx context.Context) (string, error) {
	p.botMu.Lock()
	defer p.botMu.Unlock()
	if p.botOpenID != "" {
		return p.botOpenID, nil
	}
	resp, err := p.call(ctx, "bot info", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, error) {
		return p.client.Get(ctx, botOpenIDPath, nil, larkcore.AccessTokenTypeTenant, opt)
	})
	if err != nil {
		return "", err
	}
	var out struct {
		Bot struct {
			OpenID string `json:"open_id"`
		} `json:"bot"`
	}
	if err := json.Unmarshal(resp.RawBody, &out); err != nil || out.Bot.OpenID == "" {
		return "", errors.New("feishu: bot info: no open_id in the answer")
	}
	p.botOpenID = out.Bot.OpenID
	return p.botOpenID, nil
}
