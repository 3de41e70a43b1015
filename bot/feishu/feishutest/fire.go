package feishutest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Click is a card click as Feishu reports it (card.action.trigger, schema
// 2.0). Zero fields get defaults: a fresh event id, the keys' token.
type Click struct {
	EventID   string
	OpenID    string
	MessageID string
	ChatID    string
	// Value is the clicked button's callback value; FormValue the form's
	// inputs when the button submits a form.
	Value     map[string]any
	FormValue map[string]any
	// Token overrides the verification token in the event's header.
	Token string
}

// ClickEvent returns the decrypted JSON of a click.
func ClickEvent(k Keys, c Click) []byte {
	if c.EventID == "" {
		c.EventID = NewEventID()
	}
	if c.Token == "" {
		c.Token = k.VerificationToken
	}
	action := map[string]any{"tag": "button", "value": c.Value}
	if c.FormValue != nil {
		action["form_value"], action["name"] = c.FormValue, "b0"
	}
	ev := map[string]any{
		"schema": "2.0",
		"header": map[string]any{"event_id": c.EventID, "token": c.Token, "create_time": strconv.FormatInt(time.Now().UnixMicro(), 10),
			"event_type": "card.action.trigger", "tenant_key": "tenant_fake", "app_id": k.AppID},
		"event": map[string]any{
			"operator": map[string]any{"tenant_key": "tenant_fake", "open_id": c.OpenID},
			"token":    "c-" + c.EventID,
			"action":   action,
			"host":     "im_message",
			"context":  map[string]any{"open_message_id": c.MessageID, "open_chat_id": c.ChatID},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

// ClickRequest returns the POST Feishu would make to target for a click:
// encrypted with the keys' encrypt key and signed, timestamped now. It is
// what a benchmark fires.
func ClickRequest(target string, k Keys, c Click) *http.Request {
	return SignedRequest(target, k, ClickEvent(k, c), time.Now())
}

// SignedRequest encrypts plain into {"encrypt": …} and signs it as Feishu
// does, with the timestamp ts.
func SignedRequest(target string, k Keys, plain []byte, ts time.Time) *http.Request {
	body, _ := json.Marshal(map[string]string{"encrypt": Encrypt(plain, k.EncryptKey)})
	stamp, nonce := strconv.FormatInt(ts.Unix(), 10), NewEventID()[:16]
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		panic(fmt.Sprintf("feishutest: bad target %q: %v", target, err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-Lark-Request-Timestamp", stamp)
	req.Header.Set("X-Lark-Request-Nonce", nonce)
	req.Header.Set("X-Lark-Signature", Sign(stamp, nonce, k.EncryptKey, body))
	return req
}

// Sign is X-Lark-Signature: hex SHA-256 of timestamp, nonce, encrypt key
// and body.
func Sign(ts, nonce, encryptKey string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(ts + nonce + encryptKey))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Encrypt encrypts plain as Feishu encrypts a callback: AES-256-CBC keyed
// by SHA-256 of the key, a random IV in front, PKCS#7 padding, base64.
func Encrypt(plain []byte, encryptKey string) string {
	key := sha256.Sum256([]byte(encryptKey))
	block, _ := aes.NewCipher(key[:])
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(append([]byte{}, plain...), bytes.Repeat([]byte{byte(n)}, n)...)
	out := make([]byte, aes.BlockSize+len(padded))
	_, _ = rand.Read(out[:aes.BlockSize])
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], padded)
	return base64.StdEncoding.EncodeToString(out)
}

// NewEventID returns a fresh event id.
func NewEventID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ChallengeRequest is the URL check Feishu sends when the callback URL is
// saved: encrypted, not signed.
func ChallengeRequest(target string, k Keys, challenge, token string) *http.Request {
	plain, _ := json.Marshal(map[string]string{"challenge": challenge, "token": token, "type": "url_verification"})
	body, _ := json.Marshal(map[string]string{"encrypt": Encrypt(plain, k.EncryptKey)})
	req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return req
}

// Answer is a server's answer to a callback.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
	// Toast and Card are a click's answer.
	Toast struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	Card json.RawMessage
}

// Do sends a callback request and reads the answer.
func Do(ctx context.Context, client *http.Client, req *http.Request) (Answer, error) {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	a := Answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	if a.Body, err = io.ReadAll(resp.Body); err != nil {
		return a, err
	}
	var out struct {
		Toast *json.RawMessage `json:"toast"`
		Card  *struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		} `json:"card"`
	}
	if resp.StatusCode == http.StatusOK && json.Unmarshal(a.Body, &out) == nil {
		if out.Toast != nil {
			_ = json.Unmarshal(*out.Toast, &a.Toast)
		}
		if out.Card != nil {
			a.Card = out.Card.Data
		}
	}
	return a, nil
}

// FireClick fires a signed click at target and returns the answer.
func (s *Server) FireClick(ctx context.Context, target string, c Click) (Answer, error) {
	return Do(ctx, http.DefaultClient, ClickRequest(target, s.Keys, c))
}

// FireMessage fires a signed message event at target.
func (s *Server) FireMessage(ctx context.Context, target string, m Msg) (Answer, error) {
	return Do(ctx, http.DefaultClient, SignedRequest(target, s.Keys, MessageEvent(s.Keys, m), time.Now()))
}
