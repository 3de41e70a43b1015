package dingtalktest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EventAnswer is the answer to an encrypted event, opened.
type EventAnswer struct {
	Status int
	// Plain is the decrypted "encrypt" of a 200 answer ("success"), whose
	// signature checked out.
	Plain string
}

// FireEvent posts event (JSON-encoded) to url as DingTalk's HTTP event
// subscription does: encrypted with aesKey for the app (ClientID), signed
// with token at at. It opens and checks the answer.
func (s *Server) FireEvent(ctx context.Context, target, token, aesKey string, event any, at time.Time) (EventAnswer, error) {
	key, err := base64.StdEncoding.DecodeString(aesKey + "=")
	if err != nil || len(key) != 32 {
		return EventAnswer{}, errors.New("dingtalktest: bad aes key")
	}
	msg, err := json.Marshal(event)
	if err != nil {
		return EventAnswer{}, err
	}
	enc := seal(key, []byte(randomHex(8)), msg, s.opts.ClientID)
	ts, nonce := strconv.FormatInt(at.UnixMilli(), 10), randomHex(6)
	q := url.Values{"signature": {sha1Sign(token, ts, nonce, enc)}, "timestamp": {ts}, "nonce": {nonce}}
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return EventAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return EventAnswer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return EventAnswer{Status: resp.StatusCode}, err
	}
	var out struct {
		Sig   string `json:"msg_signature"`
		TS    string `json:"timeStamp"`
		Nonce string `json:"nonce"`
		Enc   string `json:"encrypt"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return EventAnswer{Status: resp.StatusCode}, fmt.Errorf("dingtalktest: answer is not JSON: %w", err)
	}
	if out.Sig != sha1Sign(token, out.TS, out.Nonce, out.Enc) {
		return EventAnswer{Status: resp.StatusCode}, errors.New("dingtalktest: the answer's signature does not match")
	}
	plain, err := open(key, out.Enc, s.opts.ClientID)
	return EventAnswer{Status: resp.StatusCode, Plain: string(plain)}, err
}

func sha1Sign(parts ...string) string {
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

func seal(key, random, msg []byte, receiver string) string {
	var b bytes.Buffer
	b.Write(random[:16])
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(msg)))
	b.Write(n[:])
	b.Write(msg)
	b.WriteString(receiver)
	pad := 32 - b.Len()%32
	b.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	out := b.Bytes()
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(out, out)
	return base64.StdEncoding.EncodeToString(out)
}

func open(key []byte, enc, receiver string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) == 0 || len(raw)%16 != 0 {
		return nil, errors.New("dingtalktest: bad ciphertext")
	}
	block, _ := aes.NewCipher(key)
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(raw, raw)
	pad := int(raw[len(raw)-1])
	if pad < 1 || pad > 32 || pad > len(raw)-20 {
		return nil, errors.New("dingtalktest: bad padding")
	}
	raw = raw[:len(raw)-pad]
	n := int(binary.BigEndian.Uint32(raw[16:20]))
	if n > len(raw)-20 || string(raw[20+n:]) != receiver {
		return nil, errors.New("dingtalktest: bad message")
	}
	return raw[20 : 20+n], nil
}
