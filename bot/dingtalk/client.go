package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cardflow/queue"
)

// Paths of the OpenAPI calls (https://api.dingtalk.com).
const (
	pathToken          = "/v1.0/oauth2/accessToken"
	pathCreateDeliver  = "/v1.0/card/instances/createAndDeliver"
	pathUpdateCard     = "/v1.0/card/instances"
	pathRobotBatchSend = "/v1.0/robot/oToMessages/batchSend"
	pathRobotGroupSend = "/v1.0/robot/groupMessages/send"
	headerToken        = "x-acs-dingtalk-access-token"
)

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

// APIError is an error answer of the OpenAPI: an HTTP status and
// DingTalk's code and message (never the request, which may hold a token).
type APIError struct {
	Status  int
	Code    string
	Message string
	// Wait is how long DingTalk said to wait (a ban's "wait"), 0 if it
	// did not say.
	Wait time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("HTTP %d, code %s: %s", e.Status, e.Code, e.Message)
}

// tokenInvalid holds for the answers that say the access token is invalid
// or expired: drop it and try once more with a fresh one.
func (e *APIError) tokenInvalid() bool {
	switch e.Code {
	case "InvalidAuthentication", "Forbidden.AccessDenied.AccessTokenInvalid", "InvalidAccessToken",
		"40001", "40014", "42001":
		return true
	}
	return e.Status == http.StatusUnauthorized
}

// throttled holds for DingTalk's throttling answers: the global per-API
// limit (90002), the per-app limit (90019), the per-IP ban (status 1111)
// and HTTP 429.
func (e *APIError) throttled() bool {
	switch e.Code {
	case "90002", "90019", "1111", "130101":
		return true
	}
	return e.Status == http.StatusTooManyRequests || strings.Contains(e.Code, "Throttling") ||
		strings.Contains(e.Code, "QpsLimit")
}

// errorBody is the shape of DingTalk's error answers, new API and old.
type errorBody struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	ErrCode json.RawMessage `json:"errcode"`
	ErrMsg  string          `json:"errmsg"`
	Status  json.RawMessage `json:"status"`
	Wait    int             `json:"wait"`
}

// rawString reads a code that DingTalk writes as a string or a number.
func rawString(r json.RawMessage) string {
	s := strings.Trim(strings.TrimSpace(string(r)), `"`)
	if s == "0" || s == "null" {
		return ""
	}
	return s
}

// answerError reads an answer's error, if it is one: a status other than
// 2xx, or a code other than 0 on a 2xx.
func answerError(status int, body []byte) *APIError {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a body that is not JSON leaves the status to speak
	e := &APIError{Status: status, Code: rawString(eb.Code), Message: eb.Message}
	if c := rawString(eb.ErrCode); c != "" {
		e.Code, e.Message = c, eb.ErrMsg
	}
	if s := rawString(eb.Status); s != "" && s != "200" {
		e.Code = s
		if eb.Wait > 0 {
			// The per-IP ban says how many minutes it lasts.
			e.Wait = time.Duration(eb.Wait) * time.Minute
		}
	}
	if status/100 == 2 && e.Code == "" {
		return nil
	}
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "…"
	}
	return e
}

// classify says what the queue may do about an API error: wait (rate
// limited), retry (5xx, a token refused twice), or give up (bad request,
// unknown user).
func classify(e *APIError, retryAfter string) error {
	switch {
	case e.throttled():
		after := e.Wait
		if s, err := strconv.Atoi(retryAfter); err == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		if e.Code == "130101" {
			after = 10 * time.Minute
		}
		if after <= 0 {
			after = time.Second
		}
		return queue.RateLimited(e, after)
	case e.Status >= 500, e.tokenInvalid():
		return e
	case e.Status >= 400 || e.Status/100 == 2:
		return queue.Permanent(e)
	}
	return e
}

// fetchToken gets an app access token.
func (p *Platform) fetchToken(ctx context.Context) (string, time.Duration, error) {
	in := map[string]string{"appKey": p.cfg.ClientID, "appSecret": p.cfg.ClientSecret.Reveal()}
	var out struct {
		AccessToken string `json:"accessToken"`
		ExpireIn    int64  `json:"expireIn"`
	}
	if err := p.do(ctx, http.MethodPost, pathToken, "", in, &out); err != nil {
		return "", 0, fmt.Errorf("dingtalk: get access token: %w", err)
	}
	return out.AccessToken, time.Duration(out.ExpireIn) * time.Second, nil
}

// call makes an OpenAPI call with the app's access token; a token the
// platform calls invalid is dropped and the call made once more with a
// fresh one.
func (p *Platform) call(ctx context.Context, method, path string, in, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := p.tokens.Token(ctx)
		if err != nil {
			return err
		}
		err = p.do(ctx, method, path, tok, in, out)
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) && ae.tokenInvalid() {
			p.tokens.Invalidate(tok)
			continue
		}
		return err
	}
}

// do sends one request and decodes a 2xx answer without an error code into
// out. Errors never hold the request: the token travels in a header.
func (p *Platform) do(ctx context.Context, method, path, tok string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return queue.Permanent(fmt.Errorf("encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, bytes.NewReader(body))
	if err != nil {
		return queue.Permanent(fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if tok != "" {
		req.Header.Set(headerToken, tok)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return transportError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if ae := answerError(resp.StatusCode, raw); ae != nil {
		return classify(ae, resp.Header.Get("Retry-After"))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("decode answer (HTTP %d): %w", resp.StatusCode, err)
		}
	}
	return nil
}

// transportError drops the URL from a client error (a robot's URL holds
// its token) and keeps the cause: a timeout or a refused connection, which
// a retry may cure.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("transport: %s: %w", ue.Op, ue.Err)
	}
	return fmt.Errorf("transport: %w", err)
}
