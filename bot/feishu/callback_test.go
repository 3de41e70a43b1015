package feishu_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/feishu"
	"cardflow/bot/feishu/feishutest"
	"cardflow/flows"
)

func TestURLVerification(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ans, err := feishutest.Do(t.Context(), http.DefaultClient, feishutest.ChallengeRequest(b.srv.URL, b.fake.Keys, "ch-123", b.fake.Keys.VerificationToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ans.Status)
	require.JSONEq(t, `{"challenge":"ch-123"}`, string(ans.Body))

	ans, err = feishutest.Do(t.Context(), http.DefaultClient, feishutest.ChallengeRequest(b.srv.URL, b.fake.Keys, "ch-123", "wrong-token"))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, ans.Status)
	require.NotContains(t, string(ans.Body), "ch-123")
}

// TestClickDecidesTheTask: the finance user clicks 同意 on the card the
// platform sent; the answer is the approved card with a success toast,
// and a retry of the same event is answered the same and acts once.
func TestClickDecidesTheTask(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inst, m, value := b.qianApproves("TM-2001")

	click := feishutest.Click{EventID: feishutest.NewEventID(), OpenID: "ou_qian0003", MessageID: m.ID, Value: value,
		FormValue: map[string]any{"comment": "金额无误"}}
	ans, err := b.fake.FireClick(t.Context(), b.srv.URL, click)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ans.Status, string(ans.Body))
	require.Equal(t, "application/json", strings.Split(ans.ContentType, ";")[0])
	require.Equal(t, "success", ans.Toast.Type)
	require.NotEmpty(t, ans.Card)
	_, err = feishutest.ButtonValue(ans.Card, "同意")
	require.Error(t, err, "the decided card has no buttons")
	got := b.task(inst, "u_qian")
	require.Equal(t, flows.TaskApproved, got.Status)
	require.Equal(t, "金额无误", got.Comment)
	entries := b.audit(inst)

	again, err := b.fake.FireClick(t.Context(), b.srv.URL, click)
	require.NoError(t, err)
	require.Equal(t, ans.Body, again.Body, "a retried event gets the first answer")
	require.Equal(t, entries, b.audit(inst), "and changes nothing")
}

// TestCallbackSecurity: each forged, stale, replayed, malformed or
// unauthorised callback fails closed: it is refused (or answered with a
// toast) and changes nothing, and the log says why without a secret.
func TestCallbackSecurity(t *testing.T) {
	t.Parallel()
	type env struct {
		b     *bundle
		inst  string
		msg   feishutest.Message
		value map[string]any
	}
	click := func(e env, openID string) feishutest.Click {
		return feishutest.Click{OpenID: openID, MessageID: e.msg.ID, Value: e.value}
	}
	signed := func(e env, c feishutest.Click, ts time.Time) *http.Request {
		return feishutest.SignedRequest(e.b.srv.URL, e.b.fake.Keys, feishutest.ClickEvent(e.b.fake.Keys, c), ts)
	}
	tests := []struct {
		name string
		// prepare changes the instance after its card was sent.
		prepare func(b *bundle, inst string)
		req     func(e env) *http.Request
		status  int
		toast   string // the toast type of a click answered but refused
		reason  string // what the log says
	}{
		{name: "forged signature", status: 401, reason: "signature does not match", req: func(e env) *http.Request {
			r := signed(e, click(e, "ou_qian0003"), time.Now())
			r.Header.Set("X-Lark-Signature", strings.Repeat("0", 64))
			return r
		}},
		{name: "signed with another key", status: 401, reason: "signature does not match", req: func(e env) *http.Request {
			k := e.b.fake.Keys
			k.EncryptKey = "another-key-123"
			return feishutest.SignedRequest(e.b.srv.URL, k, feishutest.ClickEvent(k, click(e, "ou_qian0003")), time.Now())
		}},
		{name: "signature headers missing", status: 401, reason: "signature headers missing", req: func(e env) *http.Request {
			r := signed(e, click(e, "ou_qian0003"), time.Now())
			r.Header.Del("X-Lark-Signature")
			return r
		}},
		{name: "wrong verification token", status: 401, reason: "wrong verification token", req: func(e env) *http.Request {
			c := click(e, "ou_qian0003")
			c.Token = "not-the-token"
			return signed(e, c, time.Now())
		}},
		{name: "stale timestamp", status: 401, reason: "stale", req: func(e env) *http.Request {
			return signed(e, click(e, "ou_qian0003"), time.Now().Add(-6*time.Minute))
		}},
		{name: "future timestamp", status: 401, reason: "stale", req: func(e env) *http.Request {
			return signed(e, click(e, "ou_qian0003"), time.Now().Add(6*time.Minute))
		}},
		{name: "bad padding", status: 400, reason: "does not decrypt", req: func(e env) *http.Request {
			return rawSigned(e.b, `{"encrypt":"`+badPadding(e.b.fake.Keys.EncryptKey)+`"}`)
		}},
		{name: "oversized body", status: 413, reason: "too large", req: func(e env) *http.Request {
			return rawSigned(e.b, `{"encrypt":"`+strings.Repeat("A", 70<<10)+`"}`)
		}},
		{name: "malformed JSON", status: 400, reason: "not JSON", req: func(e env) *http.Request {
			return rawSigned(e.b, `{"encrypt":`)
		}},
		{name: "not encrypted", status: 400, reason: "not encrypted", req: func(e env) *http.Request {
			return rawSigned(e.b, string(feishutest.ClickEvent(e.b.fake.Keys, click(e, "ou_qian0003"))))
		}},
		{name: "decrypted body not JSON", status: 400, reason: "decrypted body is not JSON", req: func(e env) *http.Request {
			return rawSigned(e.b, `{"encrypt":"`+feishutest.Encrypt([]byte("not json"), e.b.fake.Keys.EncryptKey)+`"}`)
		}},
		{name: "not the assignee", status: 200, toast: "error", req: func(e env) *http.Request {
			return signed(e, click(e, "ou_chen0009"), time.Now())
		}},
		{name: "user unknown to the org", status: 200, toast: "error", req: func(e env) *http.Request {
			return signed(e, click(e, "ou_nobody999"), time.Now())
		}},
		{name: "a task of another instance", status: 200, toast: "error", req: func(e env) *http.Request {
			other := e.b.order("TM-3999")
			task := e.b.task(other, "u_zhao")
			c := click(e, "ou_qian0003")
			c.Value = map[string]any{"a": "approve", "p": "t:" + task.ID + ":1"}
			return signed(e, c, time.Now())
		}},
		{name: "a card older than the instance", status: 200, toast: "error",
			prepare: func(b *bundle, inst string) {
				// Another signer hands their task on: a change the card shows.
				_, err := b.engine.Act(context.Background(), flows.Action{Kind: flows.ActTransfer, Actor: "u_sun",
					TaskID: b.task(inst, "u_sun").ID, To: "u_wang", Key: "transfer"})
				if err != nil {
					panic(err)
				}
			},
			req: func(e env) *http.Request { return signed(e, click(e, "ou_qian0003"), time.Now()) }},
		{name: "a payload with no version", status: 200, toast: "error", req: func(e env) *http.Request {
			p, err := bot.ParsePayload(e.value["p"].(string))
			if err != nil {
				panic(fmt.Sprintf("the card's payload %v: %v", e.value["p"], err))
			}
			c := click(e, "ou_qian0003")
			c.Value = map[string]any{"a": "approve", "p": "t:" + p.TaskID + ":0"}
			return signed(e, c, time.Now())
		}},
		{name: "button value not ours", status: 200, toast: "error", req: func(e env) *http.Request {
			c := click(e, "ou_qian0003")
			c.Value = map[string]any{"a": "approve", "p": "../../etc"}
			return signed(e, c, time.Now())
		}},
		{name: "no operator", status: 400, reason: "click without operator", req: func(e env) *http.Request {
			return signed(e, click(e, ""), time.Now())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			inst, m, value := b.qianApproves("TM-3001")
			if tt.prepare != nil {
				tt.prepare(b, inst)
			}
			before := b.audit(inst)
			ans, err := feishutest.Do(t.Context(), http.DefaultClient, tt.req(env{b: b, inst: inst, msg: m, value: value}))
			require.NoError(t, err)
			require.Equal(t, tt.status, ans.Status, string(ans.Body))
			if tt.toast != "" {
				require.Equal(t, tt.toast, ans.Toast.Type, string(ans.Body))
			}
			if tt.reason != "" {
				require.Contains(t, b.log.String(), tt.reason)
			}
			require.Equal(t, flows.TaskOpen, b.task(inst, "u_qian").Status)
			require.Equal(t, before, b.audit(inst), "nothing changed")
			bottest.AssertNoLeak(t, []string{b.fake.Keys.EncryptKey, b.fake.Keys.VerificationToken, b.fake.Keys.AppSecret}, nil, b.log.String()+string(ans.Body))
		})
	}
}

// rawSigned posts body as is, correctly signed now.
func rawSigned(b *bundle, body string) *http.Request {
	ts, nonce := time.Now().Unix(), "n0nce"
	stamp := strconvI(ts)
	r, _ := http.NewRequest(http.MethodPost, b.srv.URL, bytes.NewReader([]byte(body)))
	r.Header.Set("X-Lark-Request-Timestamp", stamp)
	r.Header.Set("X-Lark-Request-Nonce", nonce)
	r.Header.Set("X-Lark-Signature", feishutest.Sign(stamp, nonce, b.fake.Keys.EncryptKey, []byte(body)))
	return r
}

// TestUnsignedCallbacksLearnNothing: without signature headers only the
// URL check is taken, and every other unsigned body (one that does not
// decrypt, one that decrypts to no JSON, a click, a URL check with another
// token) gets the same answer, which names no reason: nobody without the
// key can use the answers to learn whether a body of theirs decrypts (a
// padding oracle would let them read captured callbacks). The log says
// why, and from where.
func TestUnsignedCallbacksLearnNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k := b.fake.Keys
	unsigned := func(body string) *http.Request {
		r, err := http.NewRequest(http.MethodPost, b.srv.URL, strings.NewReader(body))
		require.NoError(t, err)
		return r
	}
	click := feishutest.ClickEvent(k, feishutest.Click{EventID: feishutest.NewEventID(), OpenID: "ou_qian0003",
		Value: map[string]any{"a": "approve", "p": "t:x.t0001:1"}})
	bodies := map[string]*http.Request{
		"does not decrypt":           unsigned(`{"encrypt":"` + badPadding(k.EncryptKey) + `"}`),
		"decrypted body is not JSON": unsigned(`{"encrypt":"` + feishutest.Encrypt([]byte("not json"), k.EncryptKey) + `"}`),
		"signature headers missing":  unsigned(`{"encrypt":"` + feishutest.Encrypt(click, k.EncryptKey) + `"}`),
		"wrong verification token":   feishutest.ChallengeRequest(b.srv.URL, k, "ch-1", "not-the-token"),
	}
	var first *feishutest.Answer
	for reason, r := range bodies {
		ans, err := feishutest.Do(t.Context(), http.DefaultClient, r)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, ans.Status, reason)
		require.NotContains(t, string(ans.Body), reason)
		if first == nil {
			first = &ans
		}
		require.Equal(t, string(first.Body), string(ans.Body), "%s is answered as every other unsigned body", reason)
		require.Contains(t, b.log.String(), reason)
	}
	require.Contains(t, b.log.String(), `"remote":"127.0.0.1:`)
}

// badPadding encrypts a JSON object whose last block ends in bytes that
// are not PKCS#7 padding: the SDK's decrypt (trim to the braces) would
// take it, ours refuses it.
func badPadding(key string) string {
	plain := []byte(`{"type":"x"}` + "\x00\x00\x00\x07")
	// Exactly one block: Encrypt adds a whole block of padding 16, which
	// we then cut off to leave the stray bytes as the "padding".
	enc := feishu.Encrypt(plain, key, [16]byte{9})
	raw, _ := base64Decode(enc)
	return base64Encode(raw[:len(raw)-16])
}

// TestStaleCardClick: a click on a card whose task another finance user
// decided meanwhile is told so, gets the current card, and changes
// nothing.
func TestStaleCardClick(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inst, m, value := b.qianApproves("TM-3101")
	zhao := b.task(inst, "u_zhao")
	_, err := b.engine.Act(t.Context(), flows.Action{Kind: flows.ActApprove, Actor: "u_zhao", TaskID: zhao.ID, Key: "test:zhao"})
	require.NoError(t, err)
	before := b.audit(inst)

	ans, err := b.fake.FireClick(t.Context(), b.srv.URL, feishutest.Click{OpenID: "ou_qian0003", MessageID: m.ID, Value: value})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ans.Status)
	require.Equal(t, "info", ans.Toast.Type, ans.Toast.Content)
	require.Contains(t, ans.Toast.Content, "赵")
	_, err = feishutest.ButtonValue(ans.Card, "同意")
	require.Error(t, err, "the current card has nothing to click")
	require.Equal(t, before, b.audit(inst))
}

// TestLongComments: a comment as long as the engine takes, in Chinese
// (three bytes a character), decides the task; one character more, or an
// input longer than any field, is answered with a toast the clicker reads
// (not a failure Feishu would retry) and changes nothing.
func TestLongComments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		comment string
		toast   string
	}{
		{name: "as long as the engine takes", comment: strings.Repeat("字", flows.MaxCommentLength), toast: "success"},
		{name: "one character more", comment: strings.Repeat("字", flows.MaxCommentLength+1), toast: "error"},
		{name: "longer than any field", comment: strings.Repeat("字", 3*flows.MaxCommentLength), toast: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			inst, m, value := b.qianApproves("TM-2101")
			before := b.audit(inst)
			ans, err := b.fake.FireClick(t.Context(), b.srv.URL, feishutest.Click{EventID: feishutest.NewEventID(),
				OpenID: "ou_qian0003", MessageID: m.ID, Value: value, FormValue: map[string]any{"comment": tt.comment}})
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, ans.Status, string(ans.Body))
			require.Equal(t, tt.toast, ans.Toast.Type, string(ans.Body))
			got := b.task(inst, "u_qian")
			if tt.toast == "success" {
				require.Equal(t, flows.TaskApproved, got.Status)
				require.Equal(t, tt.comment, got.Comment)
				return
			}
			require.Contains(t, ans.Toast.Content, "输入的内容无法保存")
			require.Equal(t, flows.TaskOpen, got.Status)
			require.Equal(t, before, b.audit(inst), "nothing changed")
		})
	}
}

// TestEventIDBoundToItsRequest: an event id Feishu used for one click,
// sent again with another request (another choice, another clicker), is
// not answered with the first click's answer: the engine refuses it as a
// reused key, and the first click's retry still gets the first answer.
func TestEventIDBoundToItsRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	inst, m, value := b.qianApproves("TM-2201")
	first := feishutest.Click{EventID: feishutest.NewEventID(), OpenID: "ou_qian0003", MessageID: m.ID, Value: value}
	ans, err := b.fake.FireClick(t.Context(), b.srv.URL, first)
	require.NoError(t, err)
	require.Equal(t, "success", ans.Toast.Type, string(ans.Body))

	reject := first
	reject.Value = map[string]any{"a": "reject", "p": value["p"]}
	reject.FormValue = map[string]any{"comment": "金额不对"}
	other := first
	other.OpenID = "ou_sun0004"
	for _, c := range []feishutest.Click{reject, other} {
		again, err := b.fake.FireClick(t.Context(), b.srv.URL, c)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, again.Status, string(again.Body))
		require.Equal(t, "error", again.Toast.Type, string(again.Body))
		require.Contains(t, again.Toast.Content, "重复的请求与第一次的内容不同")
		require.NotEqual(t, ans.Body, again.Body)
	}
	require.Equal(t, flows.TaskApproved, b.task(inst, "u_qian").Status)
	retry, err := b.fake.FireClick(t.Context(), b.srv.URL, first)
	require.NoError(t, err)
	require.Equal(t, ans.Body, retry.Body, "the first click's retry gets its answer")
	require.Contains(t, b.log.String(), "its event id came before with another request")
}
