package wecom_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/wecom"
	"cardflow/bot/wecom/wecomtest"
	"cardflow/config"
	"cardflow/flows"
)

// serve runs the platform's callback handler on a test server.
func (b *bundle) serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(b.p.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// vectorPlatform is a platform with the published vectors' credentials,
// its clock at ts.
func vectorPlatform(t *testing.T, ts string, in *inbound) http.Handler {
	t.Helper()
	v := loadVectors(t)
	n, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err)
	p, err := wecom.New(config.WeComConfig{CorpID: v.ReceiveID, AgentID: 218, Secret: "unused-secret",
		Token: config.Secret(v.Token), EncodingAESKey: config.Secret(v.EncodingAESKey), BaseURL: "http://127.0.0.1:1"},
		wecom.Deps{Inbound: in, Store: setup(t, nil).store, Directory: newDirectory(),
			Now: func() time.Time { return time.Unix(n, 0) }})
	require.NoError(t, err)
	return p.Handler()
}

func TestURLCheckWithPublishedVector(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).URLCheck
	h := vectorPlatform(t, v.Timestamp, &inbound{})
	q := url.Values{"msg_signature": {v.Signature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}, "echostr": {v.Echostr}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callbacks/wecom?"+q.Encode(), nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, v.Plaintext, rec.Body.String(), "the bare plaintext: no quotes, BOM or newline")

	late, err := strconv.ParseInt(v.Timestamp, 10, 64)
	require.NoError(t, err)
	stale := vectorPlatform(t, strconv.FormatInt(late+6*60, 10), &inbound{})
	rec = httptest.NewRecorder()
	stale.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callbacks/wecom?"+q.Encode(), nil))
	require.Equal(t, http.StatusBadRequest, rec.Code, "six minutes late")

	q.Set("msg_signature", strings.Repeat("0", 40))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callbacks/wecom?"+q.Encode(), nil))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestPostWithPublishedVector(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).Post
	in := &inbound{}
	h := vectorPlatform(t, v.Timestamp, in)
	body := `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[` + v.Encrypt +
		`]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`
	q := url.Values{"msg_signature": {v.Signature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/callbacks/wecom?"+q.Encode(), strings.NewReader(body)))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String())
	_, msgs := in.got()
	require.Equal(t, []bot.Message{{Platform: wecom.Name, EventID: v.MsgID, PlatformUserID: v.FromUser, Text: v.Content}}, msgs)
}

func TestURLCheckThroughFake(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	status, body, err := b.fake.CheckURL(t.Context(), b.serve(t), "echo-1234567")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "echo-1234567", body)
}

// approveKey is the key of the approve button of the card qian got.
func approveKey(t *testing.T, f *wecomtest.Server) (taskID, key string) {
	t.Helper()
	msgs := f.Messages()
	require.NotEmpty(t, msgs)
	m := msgs[len(msgs)-1]
	for _, b := range m.Card.ButtonList {
		if a, _, _, err := wecom.ParseButtonKey(b.Key); err == nil && a == flows.ActApprove {
			return m.TaskID, b.Key
		}
	}
	t.Fatalf("no approve button on %+v", m.Card)
	return "", ""
}

func TestClickKeepsItsCodeThenActs(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.sendRecorded(t, approvalCard("i1.t1"))
	taskID, key := approveKey(t, b.fake)
	var tokenAtClick string
	b.in.onClick = func(bot.Click) {
		c, err := b.store.Card(t.Context(), m.CardKey)
		require.NoError(t, err)
		tokenAtClick = c.UpdateToken
	}
	ev := b.fake.Click("QianDuoduo", taskID, key)
	reply, err := b.fake.Fire(t.Context(), b.serve(t), ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reply.Status)
	require.Nil(t, reply.Plain, "a click that went through gets an empty answer: the card is updated")
	require.Equal(t, ev.ResponseCode, tokenAtClick, "the click's code is kept before the click acts")

	clicks, _ := b.in.got()
	require.Len(t, clicks, 1)
	require.Equal(t, bot.Click{Platform: wecom.Name, EventID: clicks[0].EventID, PlatformUserID: "QianDuoduo",
		Payload: "t:i1.t1:1", Action: flows.ActApprove, Values: map[string]string{}}, clicks[0])

	// The update the decision causes spends the click's code.
	c := approvalCard("i1.t1")
	c.Version, c.Buttons = 2, nil
	_, err = b.p.Update(t.Context(), qian, m, c)
	require.NoError(t, err)
	require.Equal(t, 1, b.fake.OpenCodes(taskID), "the send's code is left; the click's was spent")
}

// TestRetriedClickKeepsNoSpentCode: WeCom delivers a click again after the
// update its decision caused spent the click's code; the retry must not
// keep that code again, or the next update of the card would use a code
// WeCom refuses.
func TestRetriedClickKeepsNoSpentCode(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.sendRecorded(t, approvalCard("i1.t1"))
	taskID, key := approveKey(t, b.fake)
	plain, err := xml.Marshal(b.fake.Click("QianDuoduo", taskID, key))
	require.NoError(t, err)
	u := b.serve(t)
	_, err = b.fake.Post(t.Context(), u, b.fake.Seal(plain))
	require.NoError(t, err)
	c := approvalCard("i1.t1")
	c.Version, c.Buttons = 2, nil
	_, err = b.p.Update(t.Context(), qian, m, c)
	require.NoError(t, err)
	kept, err := b.store.Card(t.Context(), m.CardKey)
	require.NoError(t, err)
	require.Empty(t, kept.UpdateToken, "the update spent the click's code")

	again, err := b.fake.Post(t.Context(), u, b.fake.Seal(plain)) // a new timestamp and nonce, the same click
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, again.Status)
	kept, err = b.store.Card(t.Context(), m.CardKey)
	require.NoError(t, err)
	require.Empty(t, kept.UpdateToken, "the retry keeps no spent code")
}

// texts waits until user got n text messages from the app, and returns
// them.
func texts(t *testing.T, f *wecomtest.Server, user string, n int) []string {
	t.Helper()
	require.NoError(t, f.Wait(waitCtx(t), func() bool { return len(f.Texts(user)) >= n }))
	return f.Texts(user)
}

func TestRefusedClickToldInATextMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sendRecorded(t, approvalCard("i1.t1"))
	taskID, key := approveKey(t, b.fake)
	b.in.reply = bot.ClickReply{Toast: bot.Toast{Kind: bot.ToastError, Text: "你不是这个任务的处理人"}}
	reply, err := b.fake.FireClick(t.Context(), b.serve(t), "QianDuoduo", taskID, key)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reply.Status)
	require.Empty(t, reply.Body)
	require.Equal(t, []string{"你不是这个任务的处理人"}, texts(t, b.fake, "QianDuoduo", 1))
}

func TestRetriedClickAnsweredAlike(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sendRecorded(t, approvalCard("i1.t1"))
	taskID, key := approveKey(t, b.fake)
	b.in.reply = bot.ClickReply{Toast: bot.Toast{Kind: bot.ToastInfo, Text: "已由 钱多多 于 10:42 同意"}}
	plain, err := xml.Marshal(b.fake.Click("QianDuoduo", taskID, key))
	require.NoError(t, err)
	sealed := b.fake.Seal(plain)
	u := b.serve(t)
	first, err := b.fake.Post(t.Context(), u, sealed)
	require.NoError(t, err)
	b.in.reply = bot.ClickReply{Toast: bot.Toast{Kind: bot.ToastError, Text: "a second answer"}}
	again, err := b.fake.Post(t.Context(), u, sealed)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, first.Status)
	require.Equal(t, first, again, "a retried callback gets the first answer")
	require.NoError(t, b.p.Close()) // waits for replies being sent
	require.Equal(t, []string{"已由 钱多多 于 10:42 同意"}, b.fake.Texts("QianDuoduo"), "told once, the first answer")
	clicks, _ := b.in.got()
	require.Len(t, clicks, 2)
	require.Equal(t, clicks[0].EventID, clicks[1].EventID, "the engine dedupes on the one event id")
}

// sealAt builds a callback for plain with c at ts, signed by signer.
func sealAt(t *testing.T, c, signer *wecom.Crypto, plain []byte, ts time.Time) (url.Values, []byte) {
	t.Helper()
	enc, err := c.Encrypt(nil, plain)
	require.NoError(t, err)
	return envelopeOf(signer, enc, ts)
}

func envelopeOf(signer *wecom.Crypto, enc string, ts time.Time) (url.Values, []byte) {
	s := strconv.FormatInt(ts.Unix(), 10)
	q := url.Values{"msg_signature": {signer.Signature(s, "n1", enc)}, "timestamp": {s}, "nonce": {"n1"}}
	body := `<xml><ToUserName><![CDATA[` + wecomtest.CorpID + `]]></ToUserName><AgentID>1000002</AgentID><Encrypt><![CDATA[` +
		enc + `]]></Encrypt></xml>`
	return q, []byte(body)
}

func TestCallbackSecurity(t *testing.T) {
	t.Parallel()
	app, err := wecom.NewCrypto(wecomtest.Token, wecomtest.EncodingAESKey, wecomtest.CorpID)
	require.NoError(t, err)
	wrongToken, err := wecom.NewCrypto("not-the-token", wecomtest.EncodingAESKey, wecomtest.CorpID)
	require.NoError(t, err)
	otherCorp, err := wecom.NewCrypto(wecomtest.Token, wecomtest.EncodingAESKey, "ww-other-corp")
	require.NoError(t, err)
	click := func(mut func(*wecom.Event)) []byte {
		ev := wecom.Event{ToUserName: wecomtest.CorpID, FromUserName: "QianDuoduo", CreateTime: time.Now().Unix(),
			MsgType: "event", Event: "template_card_event", EventKey: "a=approve&p=t%3Ai1.t1%3A1", TaskID: "cf-1",
			ResponseCode: "rc-x", AgentID: strconv.Itoa(wecomtest.AgentID)}
		if mut != nil {
			mut(&ev)
		}
		raw, _ := xml.Marshal(ev)
		return raw
	}
	now := time.Now()
	for _, tc := range []struct {
		name   string
		build  func() (url.Values, []byte)
		status int
	}{
		{name: "forged signature", status: http.StatusUnauthorized, build: func() (url.Values, []byte) {
			q, body := sealAt(t, app, app, click(nil), now)
			q.Set("msg_signature", strings.Repeat("ab", 20))
			return q, body
		}},
		{name: "signed with a wrong token", status: http.StatusUnauthorized, build: func() (url.Values, []byte) {
			return sealAt(t, app, wrongToken, click(nil), now)
		}},
		{name: "stale timestamp", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			return sealAt(t, app, app, click(nil), now.Add(-6*time.Minute))
		}},
		{name: "future timestamp", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			return sealAt(t, app, app, click(nil), now.Add(6*time.Minute))
		}},
		{name: "no timestamp", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			q, body := sealAt(t, app, app, click(nil), now)
			q.Del("timestamp")
			return q, body
		}},
		{name: "bad AES padding", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			good, err := app.Encrypt(nil, click(nil))
			require.NoError(t, err)
			raw := []byte(good)
			raw[len(raw)-6] ^= 1 // corrupts the last block, so its padding
			return envelopeOf(app, string(raw), now)
		}},
		{name: "ciphertext not whole blocks", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			return envelopeOf(app, "QUJD", now)
		}},
		{name: "for another corp", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			return sealAt(t, otherCorp, app, click(nil), now)
		}},
		{name: "oversized body", status: http.StatusRequestEntityTooLarge, build: func() (url.Values, []byte) {
			q, body := sealAt(t, app, app, click(nil), now)
			return q, append(body, bytes.Repeat([]byte(" "), 70<<10)...)
		}},
		{name: "malformed envelope", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			q, _ := sealAt(t, app, app, click(nil), now)
			return q, []byte("<xml><Encrypt>")
		}},
		{name: "malformed event XML", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			return sealAt(t, app, app, []byte("<xml><FromUserName>QianDuoduo"), now)
		}},
		{name: "malformed robot JSON", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			q, _ := sealAt(t, app, app, click(nil), now)
			return q, []byte(`{"encrypt":`)
		}},
		{name: "over-long user id", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			return sealAt(t, app, app, click(func(e *wecom.Event) { e.FromUserName = strings.Repeat("u", 65) }), now)
		}},
		{name: "another app's agent id", status: http.StatusBadRequest, build: func() (url.Values, []byte) {
			return sealAt(t, app, app, click(func(e *wecom.Event) { e.AgentID = "1000099" }), now)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			q, body := tc.build()
			resp, err := http.Post(b.serve(t)+"?"+q.Encode(), "text/xml", bytes.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			require.Equal(t, tc.status, resp.StatusCode)
			clicks, msgs := b.in.got()
			require.Empty(t, clicks)
			require.Empty(t, msgs)
			require.Contains(t, b.log.String(), "wecom callback refused")
			bottest.AssertNoLeak(t, append(b.secrets(), wecomtest.Token), nil, b.log.String())
		})
	}
}

func TestClickByUnknownUserKeepsNoCode(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	m := b.sendRecorded(t, approvalCard("i1.t1"))
	taskID, key := approveKey(t, b.fake)
	reply, err := b.fake.FireClick(t.Context(), b.serve(t), "Stranger", taskID, key)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reply.Status)
	c, err := b.store.Card(t.Context(), m.CardKey)
	require.NoError(t, err)
	require.Equal(t, m.UpdateToken, c.UpdateToken, "the stranger's code is not kept on qian's card")
	clicks, _ := b.in.got()
	require.Equal(t, "Stranger", clicks[0].PlatformUserID, "Inbound answers a stranger (the directory refuses)")
}
