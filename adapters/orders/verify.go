package orders

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a signed webhook: the sender's Unix time in seconds, and
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + raw body)). The
// timestamp is inside the signature, so a captured request cannot be sent
// again later with a fresh time; within the window a resent request is the
// same event and is deduplicated.
const (
	HeaderTimestamp = "X-Cardflow-Timestamp"
	HeaderSignature = "X-Cardflow-Signature"
)

// MaxSkew is how far a webhook's timestamp may be from the server's clock.
const MaxSkew = 5 * time.Minute

// Reasons a webhook is refused; each is answered 401 and logged.
var (
	ErrNoSignature  = errors.New("no signature or timestamp header")
	ErrBadSignature = errors.New("signature does not match")
	ErrStale        = errors.New("timestamp outside the 5-minute window")
)

// Sign returns the signature header value of body sent at ts: what a
// sender computes, and what tests and `cardflow` clients use.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signed webhook's headers against body with the source's
// secret, and its timestamp against now.
func Verify(h http.Header, body, secret []byte, now time.Time) error {
	tsText, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if tsText == "" || sig == "" {
		return ErrNoSignature
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || len(tsText) > 12 {
		return fmt.Errorf("%w: the timestamp is not Unix seconds", ErrStale)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	if subtle.ConstantTimeCompare([]byte(sig), []byte(Sign(secret, ts, body))) != 1 {
		return ErrBadSignature
	}
	return nil
}

// DouyinSign is Douyin Shop's push signature: lower-hex MD5(app_key + raw
// body + app_secret), sent as the event-sign header with app-id.
func DouyinSign(appKey, appSecret string, body []byte) string {
	m := md5.New()
	m.Write([]byte(appKey))
	m.Write(body)
	m.Write([]byte(appSecret))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyDouyin checks a Douyin Shop push: its app-id is the source's app
// key and its event-sign matches. Douyin's push carries no timestamp, so
// a replay is caught by the message ids' dedupe instead.
func VerifyDouyin(h http.Header, body []byte, appKey, appSecret string) error {
	sig := strings.ToLower(h.Get("event-sign"))
	if sig == "" || h.Get("app-id") == "" {
		return ErrNoSignature
	}
	if subtle.ConstantTimeCompare([]byte(h.Get("app-id")), []byte(appKey)) != 1 ||
		subtle.ConstantTimeCompare([]byte(sig), []byte(DouyinSign(appKey, appSecret, body))) != 1 {
		return ErrBadSignature
	}
	return nil
}
