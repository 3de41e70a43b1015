package wecom_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/wecom"
	"cardflow/bot/wecom/wecomtest"
)

// FuzzDecrypt feeds ciphertexts to the decryption: it fails cleanly or
// returns a message, never panics.
func FuzzDecrypt(f *testing.F) {
	v := loadVectors(f)
	f.Add(v.URLCheck.Echostr)
	f.Add(v.Post.Encrypt)
	f.Add(v.Self.Encrypt)
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==")
	c := vectorCrypto(f, v)
	f.Fuzz(func(t *testing.T, enc string) {
		msg, err := c.Decrypt(enc)
		if err == nil {
			again, err := c.Encrypt(nil, msg)
			require.NoError(t, err)
			back, err := c.Decrypt(again)
			require.NoError(t, err)
			require.Equal(t, msg, back)
		}
	})
}

// FuzzButtonKey feeds event keys to the key decoder.
func FuzzButtonKey(f *testing.F) {
	f.Add("a=approve&p=t%3Ai001.t0001%3A1")
	f.Add("_snooze_for=1h&a=snooze&p=t%3Aa.t1%3A4")
	f.Add("%zz&&a=")
	f.Fuzz(func(t *testing.T, key string) {
		action, payload, _, err := wecom.ParseButtonKey(key)
		if err == nil {
			require.NotEmpty(t, action)
			require.NotEmpty(t, payload)
		}
	})
}

// FuzzCallback feeds decrypted event bodies, correctly encrypted and
// signed, and raw bodies to the callback handler: it answers 200, 4xx or
// 503, never panics or fails with 500.
func FuzzCallback(f *testing.F) {
	v := loadVectors(f)
	f.Add([]byte(`<xml><ToUserName><![CDATA[x]]></ToUserName><FromUserName><![CDATA[QianDuoduo]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[a=approve&p=t%3Ai1.t1%3A1]]></EventKey><TaskId><![CDATA[cf-1]]></TaskId><ResponseCode><![CDATA[rc]]></ResponseCode></xml>`), true)
	f.Add([]byte(`<xml><FromUserName>mycreate</FromUserName><MsgType>text</MsgType><Content>hello</Content><MsgId>1</MsgId></xml>`), true)
	f.Add([]byte(`<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[`+v.Post.Encrypt+`]]></Encrypt></xml>`), false)
	f.Add([]byte(`{"encrypt":"`+v.Self.Encrypt+`"}`), false)
	f.Add([]byte(`<xml>`), true)
	b := setup(f, nil)
	f.Fuzz(func(t *testing.T, body []byte, seal bool) {
		app, err := wecom.NewCrypto(wecomtest.Token, wecomtest.EncodingAESKey, wecomtest.CorpID)
		require.NoError(t, err)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		target := "/callbacks/wecom?timestamp=" + ts + "&nonce=n&msg_signature=x"
		if seal {
			enc, err := app.Encrypt(nil, body)
			require.NoError(t, err)
			env, _ := xml.Marshal(struct {
				XMLName xml.Name `xml:"xml"`
				Encrypt string   `xml:"Encrypt"`
			}{Encrypt: enc})
			body = env
			target = "/callbacks/wecom?timestamp=" + ts + "&nonce=n&msg_signature=" + app.Signature(ts, "n", enc)
		}
		rec := httptest.NewRecorder()
		b.p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)))
		require.True(t, rec.Code == http.StatusOK || rec.Code == http.StatusServiceUnavailable ||
			(rec.Code >= 400 && rec.Code < 500), "status %d", rec.Code)
		require.False(t, strings.Contains(rec.Body.String(), "panic"))
	})
}

// FuzzRobotCallback feeds decrypted smart robot events, correctly
// encrypted and signed with the robot's key, to the callback handler.
func FuzzRobotCallback(f *testing.F) {
	f.Add([]byte(`{"msgid":"m1","aibotid":"a","chatid":"c1","chattype":"group","from":{"userid":"QianDuoduo"},"msgtype":"text","text":{"content":"@助手 /todo"}}`))
	f.Add([]byte(`{"msgid":"m2","chattype":"single","from":{"userid":"QianDuoduo"},"msgtype":"event"}`))
	f.Add([]byte(`{"msgid":`))
	f.Add([]byte(`{"msgid":"m3","from":{"userid":""},"msgtype":"text","text":{"content":"@"}}`))
	b := setup(f, nil)
	b.in.cards = []bot.Card{{Subject: "todo", Title: "没有待办"}}
	robot, err := wecom.NewCrypto(wecomtest.BotToken, wecomtest.BotEncodingAESKey, "")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, event []byte) {
		enc, err := robot.Encrypt(nil, event)
		require.NoError(t, err)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		body, _ := json.Marshal(map[string]string{"encrypt": enc})
		target := "/callbacks/wecom?timestamp=" + ts + "&nonce=n&msg_signature=" + robot.Signature(ts, "n", enc)
		rec := httptest.NewRecorder()
		b.p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)))
		require.True(t, rec.Code == http.StatusOK || rec.Code == http.StatusServiceUnavailable ||
			(rec.Code >= 400 && rec.Code < 500), "status %d", rec.Code)
	})
}
