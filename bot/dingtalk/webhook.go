package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"cardflow/config"
)

// Sign is DingTalk's signature of a robot call at a time (milliseconds
// since the epoch, as a decimal string): base64(HMAC-SHA256(secret,
// timestamp+"\n"+secret)). It signs robot messages DingTalk posts in
// webhook mode (keyed by the app secret) and cardflow's own posts to a
// custom robot (keyed by the robot's secret). It does not cover the body.
func Sign(secret, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// maxSkew is how far a callback's timestamp may be from now. DingTalk
// accepts an hour; since its signature does not cover the body, one
// captured pair forges bodies for as long as it is accepted, so cardflow
// takes five minutes.
const maxSkew = 5 * time.Minute

// checkSign verifies a robot message's timestamp and sign headers.
func (p *Platform) checkSign(ts, sign string) error {
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 16 {
		return refuse("timestamp header missing or not a number")
	}
	at := time.UnixMilli(ms)
	if d := p.now().Sub(at); d > maxSkew || d < -maxSkew {
		return refuse("timestamp outside ±%s", maxSkew)
	}
	got, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return refuse("sign header missing or not base64")
	}
	want, _ := base64.StdEncoding.DecodeString(Sign(p.cfg.ClientSecret.Reveal(), ts))
	if !hmac.Equal(got, want) {
		return refuse("sign does not match")
	}
	return nil
}

// Handler serves /callbacks/dingtalk in webhook mode: robot messages,
// signed with the timestamp and sign headers, and the HTTP event
// subscription's encrypted events (signature, timestamp and nonce in the
// query), of which it answers the URL check. In stream mode everything
// arrives on the stream and it answers 404.
func (p *Platform) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.cfg.Mode != config.ModeWebhook {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxData))
		if err != nil {
			p.log.Warn("callback refused", "reason", "body over the size limit or unreadable")
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		if p.crypt != nil && (r.URL.Query().Has("signature") || r.URL.Query().Has("msg_signature")) {
			p.encryptedEvent(w, r, raw)
			return
		}
		if err := p.checkSign(r.Header.Get("timestamp"), r.Header.Get("sign")); err != nil {
			p.log.Warn("callback refused", "reason", err.Error())
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), p.answerTimeout())
		defer cancel()
		_, err = p.onBotMessage(ctx, raw)
		switch {
		case errors.Is(err, errRefused):
			p.log.Warn("callback refused", "reason", err.Error())
			http.Error(w, "bad request", http.StatusBadRequest)
		case err != nil:
			p.log.Error("callback failed", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		}
	})
}

func (p *Platform) answerTimeout() time.Duration { return p.deps.Stream.withDefaults().Answer }
