package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"cardflow/bot"
	"cardflow/config"
	"cardflow/queue"
)

// Robot is a custom group robot (自定义机器人): it posts cards to its group
// as markdown. Its buttons are left out: a custom robot's messages can only
// open links, not call back.
type Robot struct {
	p           *Platform
	name        string
	url, secret config.Secret
}

// Send posts c to the robot's group, after the limiter allows it (limit
// key "dingtalk-robot:<name>").
func (r *Robot) Send(ctx context.Context, c bot.Card) error {
	if lim := r.p.deps.Limiter; lim != nil {
		ok, after, err := lim.Allow(ctx, Name+"-robot:"+r.name)
		if err != nil {
			return fmt.Errorf("dingtalk: robot %s: rate limiter: %w", r.name, err)
		}
		if !ok {
			return queue.RateLimited(fmt.Errorf("dingtalk: robot %s: 20 messages a minute reached", r.name), after)
		}
	}
	u, err := url.Parse(r.url.Reveal())
	if err != nil {
		return queue.Permanent(fmt.Errorf("dingtalk: robot %s: the webhook is not a URL", r.name))
	}
	if !r.secret.IsZero() {
		ts := strconv.FormatInt(r.p.now().UnixMilli(), 10)
		q := u.Query()
		q.Set("timestamp", ts)
		q.Set("sign", Sign(r.secret.Reveal(), ts))
		u.RawQuery = q.Encode()
	}
	msg := map[string]any{"msgtype": "markdown", "markdown": map[string]string{
		"title": c.Title, "text": robotMarkdown(c)}}
	body, err := json.Marshal(msg)
	if err != nil {
		return queue.Permanent(fmt.Errorf("dingtalk: robot %s: encode: %w", r.name, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return queue.Permanent(fmt.Errorf("dingtalk: robot %s: build request", r.name))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.p.http.Do(req)
	if err != nil {
		// transportError drops the URL, which holds the robot's token.
		return fmt.Errorf("dingtalk: robot %s: %w", r.name, transportError(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("dingtalk: robot %s: read answer: %w", r.name, err)
	}
	if ae := answerError(resp.StatusCode, raw); ae != nil {
		return fmt.Errorf("dingtalk: robot %s: %w", r.name, classify(ae, resp.Header.Get("Retry-After")))
	}
	return nil
}

// robotMarkdown is a card as one markdown message: the title as a
// heading, then the body the template would show.
func robotMarkdown(c bot.Card) string {
	parts := []string{"### " + plain(c.Title)}
	for _, s := range []string{plain(c.Subtitle), markdown(c, bot.LocaleZH), plain(c.StatusLine), plain(c.Note)} {
		if strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}
