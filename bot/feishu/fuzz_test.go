package feishu_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/feishu"
	"cardflow/bot/feishu/feishutest"
)

// FuzzDecrypt: any input decrypts or fails, never panics; what decrypts
// re-encrypts to itself.
func FuzzDecrypt(f *testing.F) {
	for _, d := range loadVectors(f).Decrypt {
		f.Add(d.Encrypt, d.Key)
	}
	f.Add(feishu.Encrypt([]byte(`{"schema":"2.0"}`), "k", [16]byte{}), "k")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, enc, key string) {
		plain, err := feishu.Decrypt(enc, key)
		if err != nil {
			return
		}
		require.Equal(t, plain, mustDecrypt(t, feishu.Encrypt(plain, key, [16]byte{7}), key))
	})
}

func mustDecrypt(t *testing.T, enc, key string) []byte {
	b, err := feishu.Decrypt(enc, key)
	require.NoError(t, err)
	return b
}

// FuzzCallback: any decrypted callback, correctly signed, is answered with
// a status and never panics the handler; only a well-formed one gets 200.
func FuzzCallback(f *testing.F) {
	keys := feishutest.DefaultKeys
	f.Add(feishutest.ClickEvent(keys, feishutest.Click{EventID: "e1", OpenID: "ou_qian0003", Value: map[string]any{"a": "approve", "p": "t:x:1"}}))
	f.Add(feishutest.ClickEvent(keys, feishutest.Click{EventID: "e2", OpenID: "ou_qian0003", Value: map[string]any{"a": 1, "v": []any{1}},
		FormValue: map[string]any{"comment": 3.5, "_return_to": "x"}}))
	f.Add(feishutest.MessageEvent(keys, feishutest.Msg{OpenID: "ou_qian0003", Text: "/todo"}))
	f.Add(feishutest.MessageEvent(keys, feishutest.Msg{OpenID: "ou_qian0003", ChatID: "oc_1", Mentions: []string{feishutest.BotOpenID}, Text: "@_user_1 /todo"}))
	f.Add([]byte(`{"type":"url_verification","challenge":"c","token":"` + keys.VerificationToken + `"}`))
	f.Add([]byte(`{"header":{"event_type":"card.action.trigger","token":"` + keys.VerificationToken + `","event_id":"e"},"event":null}`))
	f.Add([]byte(`[]`))
	h := setup(f).p.Handler()
	f.Fuzz(func(t *testing.T, plain []byte) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		body := []byte(`{"encrypt":"` + feishutest.Encrypt(plain, keys.EncryptKey) + `"}`)
		r := httptest.NewRequest(http.MethodPost, "/callbacks/feishu", bytes.NewReader(body))
		r.Header.Set("X-Lark-Request-Timestamp", ts)
		r.Header.Set("X-Lark-Request-Nonce", "n")
		r.Header.Set("X-Lark-Signature", feishutest.Sign(ts, "n", keys.EncryptKey, body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.NotZero(t, w.Code)
	})
}

// FuzzStreamEvent: any event on the long connection (no signature there:
// the connection is authenticated) is handled or refused, never panics.
func FuzzStreamEvent(f *testing.F) {
	keys := feishutest.DefaultKeys
	f.Add(feishutest.ClickEvent(keys, feishutest.Click{EventID: "s1", OpenID: "ou_qian0003", Value: map[string]any{"a": "approve", "p": "t:x:1"}}))
	f.Add(feishutest.ClickEvent(keys, feishutest.Click{EventID: "s2", OpenID: "", Value: nil}))
	f.Add(feishutest.MessageEvent(keys, feishutest.Msg{OpenID: "ou_qian0003", Text: "/todo"}))
	f.Add([]byte(`{"schema":"2.0","header":{"event_type":"im.message.receive_v1","event_id":"x"},"event":{"message":{"content":"{"}}}`))
	f.Add([]byte(`{"header":{"event_type":"card.action.trigger"},"event":{"action":{"value":{"a":[1],"v":"x"},"form_value":{"k":{}}}}}`))
	p := setup(f).p
	f.Fuzz(func(t *testing.T, payload []byte) {
		_, _ = p.Dispatch(t.Context(), payload)
	})
}
