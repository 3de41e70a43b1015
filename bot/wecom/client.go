package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cardflow/bot/token"
	"cardflow/queue"
)

// client calls WeCom's server API: gettoken, message/send,
// message/update_template_card, and the group robots' webhook/send.
type client struct {
	base   string
	http   *http.Client
	corpID string
	secret string
	tokens *token.Source
}

// Error is an errcode WeCom answered with.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("errcode %d: %s", e.Code, e.Msg) }

// WeCom's errcodes cardflow acts on.
const (
	codeBusy          = -1
	codeBadSecret     = 40001
	codeInvalidToken  = 40014
	codeMissingToken  = 41001
	codeExpiredToken  = 42001
	codeRateLimited   = 45009
	codeConcurrency   = 45033
	codeFrequency     = 45011
	rateLimitLifts    = time.Minute // WeCom blocks a minute limit for 60 s
	maxResponseLength = 1 << 20
)

// base is the reply every WeCom API shares.
type base struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (b base) err() error {
	if b.ErrCode == 0 {
		return nil
	}
	return &Error{Code: b.ErrCode, Msg: cut(b.ErrMsg, 200)}
}

func newClient(baseURL string, h *http.Client, corpID, secret string, now func() time.Time) *client {
	c := &client{base: strings.TrimRight(baseURL, "/"), http: h, corpID: corpID, secret: secret}
	c.tokens = token.New(c.fetchToken, token.Options{Now: now})
	return c
}

// fetchToken is GET /cgi-bin/gettoken. A refused secret is permanent.
func (c *client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	q := url.Values{"corpid": {c.corpID}, "corpsecret": {c.secret}}
	var out struct {
		base
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := c.do(ctx, http.MethodGet, "/cgi-bin/gettoken?"+q.Encode(), nil, &out); err != nil {
		return "", 0, fmt.Errorf("get access token: %w", err)
	}
	if err := out.err(); err != nil {
		return "", 0, fmt.Errorf("get access token: %w", classify(err))
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}

// call posts body to an API that takes the access token, and decodes the
// reply into out, which embeds base. On an invalid or expired token it
// drops the token and tries once more with a fresh one.
func (c *client) call(ctx context.Context, path string, body any, out interface{ err() error }) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return err
		}
		if err := c.do(ctx, http.MethodPost, path+"?access_token="+url.QueryEscape(tok), body, out); err != nil {
			return err
		}
		err = out.err()
		var e *Error
		if errors.As(err, &e) && attempt == 0 &&
			(e.Code == codeInvalidToken || e.Code == codeExpiredToken || e.Code == codeMissingToken) {
			c.tokens.Invalidate(tok)
			continue
		}
		return classify(err)
	}
}

// do sends one request and decodes a JSON reply. Transport failures and
// 5xx are retryable; the URL, which carries a token or secret, never
// appears in the error.
func (c *client) do(ctx context.Context, method, pathQuery string, body, out any) error {
	return doJSON(ctx, c.http, method, c.base+pathQuery, body, out)
}

func doJSON(ctx context.Context, h *http.Client, method, u string, body, out any) error {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return queue.Permanent(fmt.Errorf("encode request: %w", err))
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return queue.Permanent(fmt.Errorf("build request for %s: %w", redactURL(u), redactErr(err)))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := h.Do(req)
	if err != nil {
		return redactErr(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseLength))
	if err != nil {
		return fmt.Errorf("read reply of %s: %w", redactURL(u), err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return queue.RateLimited(fmt.Errorf("%s: HTTP %d", redactURL(u), resp.StatusCode), rateLimitLifts)
	case resp.StatusCode >= 500:
		return fmt.Errorf("%s: HTTP %d", redactURL(u), resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return queue.Permanent(fmt.Errorf("%s: HTTP %d", redactURL(u), resp.StatusCode))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: reply is not JSON: %w", redactURL(u), err)
	}
	return nil
}

// classify says what the queue should do about an errcode: wait for a
// rate limit, retry a busy or token error, give up on anything else (a
// bad card, a user outside the app, a bad secret), which no retry fixes.
func classify(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case codeRateLimited, codeConcurrency, codeFrequency:
		return queue.RateLimited(err, rateLimitLifts)
	case codeBusy, codeInvalidToken, codeExpiredToken, codeMissingToken:
		return err
	}
	return queue.Permanent(err)
}

// redactURL is u without its query, which holds the access token, the
// corp secret or a robot's key.
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// redactErr strips the query from the URL a *url.Error names.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	return err
}
