package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/queue"
)

// Robot is a custom group bot: it posts cards to one group chat through
// its webhook, signed with its secret. It cannot take clicks, so its cards
// are for reading (alerts, digests).
type Robot struct {
	p      *Platform
	name   string
	url    config.Secret
	secret config.Secret
}

// Robot returns the group bot configured under name.
func (p *Platform) Robot(name string) (*Robot, bool) {
	r, ok := p.robots[name]
	return r, ok
}

// codeRobotBusy is a custom bot's "too many requests" (at busy
// half-hours, or over 100 a minute and 5 a second).
const codeRobotBusy = 11232

// Send posts c to the robot's group, after the limiter allows it.
func (r *Robot) Send(ctx context.Context, c bot.Card) error {
	if l := r.p.deps.Limiter; l != nil {
		ok, after, err := l.Allow(ctx, Name+"-robot:"+r.name)
		if err != nil {
			return fmt.Errorf("feishu: robot %s: limiter: %w", r.name, err)
		}
		if !ok {
			return queue.RateLimited(fmt.Errorf("feishu: robot %s: over its rate limit", r.name), after)
		}
	}
	// A group bot's card cannot be clicked: buttons would only fail.
	c.Buttons, c.Inputs = nil, nil
	content, err := Render(c, bot.LocaleZH)
	if err != nil {
		return queue.Permanent(err)
	}
	msg := map[string]any{"msg_type": "interactive", "card": json.RawMessage(content)}
	if s := r.secret.Reveal(); s != "" {
		ts := r.p.now().Unix()
		msg["timestamp"], msg["sign"] = fmt.Sprint(ts), RobotSign(ts, s)
	}
	body, _ := json.Marshal(msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url.Reveal(), bytes.NewReader(body))
	if err != nil {
		return queue.Permanent(fmt.Errorf("feishu: robot %s: bad webhook URL", r.name))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := r.p.http.Do(req)
	if err != nil {
		// The error names the URL, which holds the robot's token.
		return fmt.Errorf("feishu: robot %s: post failed (%s)", r.name, transportReason(ctx, err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var out struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	_ = json.Unmarshal(raw, &out)
	if out.Code == 0 && resp.StatusCode == http.StatusOK {
		return nil
	}
	code := out.Code
	if code == codeRobotBusy {
		code = codeRateLimited
	}
	return classify(fmt.Errorf("feishu: robot %s: HTTP %d, code %d: %s", r.name, resp.StatusCode, out.Code, out.Msg), resp.StatusCode, code, resp.Header)
}

// transportReason says why a post failed without the URL.
func transportReason(ctx context.Context, err error) string {
	type timeout interface{ Timeout() bool }
	if t, ok := err.(timeout); ok && t.Timeout() {
		return "timeout"
	}
	if ctx.Err() != nil {
		return ctx.Err().Error()
	}
	return "connection failed"
}
