package dingtalk

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/dingtalk/dingtalktest"
	"cardflow/config"
)

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte(`{"specVersion":"1.0","type":"CALLBACK","time":1,"headers":{"topic":"/v1.0/card/instances/callback","messageId":"m1"},"data":"{}"}`))
	f.Add([]byte(`{"type":"SYSTEM","headers":{"topic":"ping","messageId":"p1"},"data":"{\"opaque\":\"x\"}"}`))
	f.Add([]byte(`{"type":"CALLBACK","headers":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		df, err := decodeFrame(raw)
		if err == nil {
			require.True(t, validID(df.GetMessageId()))
		}
	})
}

func FuzzDecodeClick(f *testing.F) {
	f.Add(dingtalktest.ClickPayload(dingtalktest.Click{OutTrackID: "cf-1", UserID: "0202",
		Params: map[string]any{"id": "approve|t:i1.t1:1", "comment": "好"}}))
	f.Add(dingtalktest.ClickPayload(dingtalktest.Click{OutTrackID: "cf-1", UserID: "0202",
		Params: map[string]any{"id": "return|t:i1.t1:1|_return_to=applicant", "_return_to": "elsewhere"}}))
	f.Add([]byte(`{"userId":"0202","content":"{nope"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := decodeClick(raw)
		if err != nil {
			return
		}
		require.True(t, validID(c.userID))
		require.LessOrEqual(t, len(c.values), maxValues+2)
		for k, v := range c.values {
			require.LessOrEqual(t, len(v), maxValueBytes+maxButtonID)
			_ = k
		}
	})
}

// TestInputsCannotSetButtonValues: a "_" value comes from the button id
// only, never from the card's inputs.
func TestInputsCannotSetButtonValues(t *testing.T) {
	t.Parallel()
	c, err := decodeClick(dingtalktest.ClickPayload(dingtalktest.Click{OutTrackID: "cf-1", UserID: "0202",
		Params: map[string]any{"id": "return|t:i1.t1:1|_return_to=applicant", "_return_to": "elsewhere", "comment": "x", "n": 3.5}}))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"_return_to": "applicant", "comment": "x", "n": "3.5"}, c.values)
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(dingtalktest.MessagePayload(dingtalktest.Message{MsgID: "m1", UserID: "0202", Text: "/todo"}))
	f.Add(dingtalktest.MessagePayload(dingtalktest.Message{MsgID: "m2", UserID: "0202", ChatID: "cid1", Text: "查单 1001"}))
	f.Add([]byte(`{"msgId":"m1","senderStaffId":"1","conversationType":"3"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := decodeMessage(raw)
		if err != nil {
			return
		}
		require.True(t, validID(m.PlatformUserID))
		require.LessOrEqual(t, len(m.Text), maxTextLen)
	})
}

func FuzzParseButtonID(f *testing.F) {
	for _, s := range []string{"approve|t:i1.t1:1", "return|t:i1.t1:1|_return_to=applicant", "snooze|t:a.t1:4|_snooze_for=1h", "x|y|z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		_, payload, values, ok := ParseButtonID(id)
		if ok {
			require.NotEmpty(t, payload)
			for k := range values {
				require.Equal(t, byte('_'), k[0])
			}
		}
	})
}

func FuzzCheckSign(f *testing.F) {
	f.Add("1700000000000", "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=")
	f.Add("1700000000000", "")
	f.Add("-1", "!!")
	p := &Platform{cfg: config.DingTalkConfig{ClientSecret: "SECtest"},
		now: func() time.Time { return time.UnixMilli(1700000000000) }}
	f.Fuzz(func(t *testing.T, ts, sign string) {
		err := p.checkSign(ts, sign)
		if err == nil {
			ms, perr := strconv.ParseInt(ts, 10, 64)
			require.NoError(t, perr)
			require.Equal(t, Sign("SECtest", strconv.FormatInt(ms, 10)), Sign("SECtest", ts))
		}
	})
}
