package stock

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"cardflow/adapters/orders"
)

// pushBody is what a target receives.
type pushBody struct {
	SKU      string `json:"sku"`
	Sellable int64  `json:"sellable"`
	Version  int64  `json:"version"`
	At       string `json:"at"`
}

// httpError is a push the receiver answered with a status other than 2xx.
type httpError struct{ status int }

func (e *httpError) Error() string { return fmt.Sprintf("the receiver answered %d", e.status) }

// maxAnswer bounds what is read of a receiver's answer.
const maxAnswer = 64 << 10

// send posts one push, signed, and returns nil on a 2xx answer. Otherwise
// it returns why, with the Retry-After the receiver asked for, if any. The
// error never holds the target's URL (it may carry a token) nor secret.
func (p *Pusher) send(ctx context.Context, t PushTarget, row Push) (time.Duration, error) {
	body, err := json.Marshal(pushBody{SKU: row.SKU, Sellable: row.Sellable, Version: row.Version,
		At: row.ChangedAt.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return 0, fmt.Errorf("encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL.Reveal(), bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("build the request: the URL is not valid")
	}
	ts := p.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(orders.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(orders.HeaderSignature, orders.Sign([]byte(t.Secret.Reveal()), ts, body))
	req.Header.Set(HeaderIdempotencyKey, url.PathEscape(t.Name)+"/"+url.PathEscape(row.SKU)+"/"+
		strconv.FormatInt(row.Version, 10))
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL stays out of the error
		}
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	return retryAfter(resp.Header.Get("Retry-After"), p.now(), p.opts.MaxBackoff), &httpError{status: resp.StatusCode}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), at most
// limit; 0 when absent or unreadable.
func retryAfter(v string, now time.Time, limit time.Duration) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return min(time.Duration(min(s, 1<<20))*time.Second, limit)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), limit)
	}
	return 0
}

// newToken is a claim's token.
func newToken() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
