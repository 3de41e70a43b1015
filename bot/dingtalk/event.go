package dingtalk

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// encryptedEvent serves DingTalk's HTTP event subscription in webhook
// mode: signed query, encrypted body. cardflow takes no events from it
// yet (clicks and messages arrive otherwise); it answers the URL check
// (check_url) and acknowledges other events, so that the subscription can
// be saved in the console.
func (p *Platform) encryptedEvent(w http.ResponseWriter, r *http.Request, raw []byte) {
	q := r.URL.Query()
	sig := q.Get("msg_signature")
	if sig == "" {
		sig = q.Get("signature")
	}
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if err := p.checkEvent(ts, nonce, sig, raw); err != nil {
		p.log.Warn("event refused", "reason", err.Error())
		status := http.StatusBadRequest
		if errors.Is(err, errUnsigned) {
			status = http.StatusUnauthorized
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	var body struct {
		Encrypt string `json:"encrypt"`
	}
	_ = json.Unmarshal(raw, &body) // checked by checkEvent
	plain, err := p.crypt.decrypt(body.Encrypt)
	var ev struct {
		EventType string `json:"EventType"`
	}
	if err == nil && json.Unmarshal(plain, &ev) != nil {
		err = refuse("event is not JSON")
	}
	if err != nil {
		p.log.Warn("event refused", "reason", err.Error())
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if ev.EventType != "check_url" {
		p.log.Info("event acknowledged", "type", truncate(ev.EventType, 64))
	}
	var n [8]byte
	_, _ = rand.Read(n[:])
	replyTS, replyNonce := strconv.FormatInt(p.now().UnixMilli(), 10), hex.EncodeToString(n[:])
	enc := p.crypt.encrypt(nil, []byte("success"))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"msg_signature": p.crypt.signature(replyTS, replyNonce, enc),
		"timeStamp": replyTS, "nonce": replyNonce, "encrypt": enc})
}

var errUnsigned = errors.New("unsigned")

// checkEvent checks an event's timestamp (seconds or milliseconds),
// signature and body shape.
func (p *Platform) checkEvent(ts, nonce, sig string, raw []byte) error {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 16 || nonce == "" || len(nonce) > 64 {
		return refuse("timestamp or nonce missing")
	}
	at := time.Unix(n, 0)
	if n > 1e12 {
		at = time.UnixMilli(n)
	}
	if d := p.now().Sub(at); d > maxSkew || d < -maxSkew {
		return refuse("timestamp outside ±%s", maxSkew)
	}
	var body struct {
		Encrypt string `json:"encrypt"`
	}
	if json.Unmarshal(raw, &body) != nil || body.Encrypt == "" {
		return refuse("body is not {\"encrypt\": …}")
	}
	if subtle.ConstantTimeCompare([]byte(sig), []byte(p.crypt.signature(ts, nonce, body.Encrypt))) != 1 {
		return errors.Join(errUnsigned, refuse("signature does not match"))
	}
	return nil
}
