package wecom_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot/wecom"
)

// vectors are WeCom's published WXBizMsgCrypt vectors (testdata/vectors.json
// names the source).
type vectors struct {
	Token          string `json:"token"`
	EncodingAESKey string `json:"encoding_aes_key"`
	ReceiveID      string `json:"receive_id"`
	URLCheck       struct {
		Timestamp, Nonce, Echostr, Signature, Plaintext string
	} `json:"url_check"`
	Post struct {
		Timestamp, Nonce, Signature, Encrypt string
		FromUser                             string `json:"from_user"`
		CreateTime                           string `json:"create_time"`
		Content                              string
		MsgID                                string `json:"msg_id"`
		AgentID                              string `json:"agent_id"`
	} `json:"post"`
	Self struct {
		Random, Msg, Encrypt, Timestamp, Nonce, Signature string
	} `json:"self"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	require.NoError(t, err)
	var v vectors
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

func vectorCrypto(t testing.TB, v vectors) *wecom.Crypto {
	t.Helper()
	c, err := wecom.NewCrypto(v.Token, v.EncodingAESKey, v.ReceiveID)
	require.NoError(t, err)
	return c
}

func TestCryptoPublishedVectors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	c := vectorCrypto(t, v)

	t.Run("url check", func(t *testing.T) {
		u := v.URLCheck
		require.Equal(t, u.Signature, c.Signature(u.Timestamp, u.Nonce, u.Echostr))
		require.True(t, c.Verify(u.Signature, u.Timestamp, u.Nonce, u.Echostr))
		plain, err := c.Decrypt(u.Echostr)
		require.NoError(t, err)
		require.Equal(t, u.Plaintext, string(plain))
	})
	t.Run("post", func(t *testing.T) {
		p := v.Post
		require.True(t, c.Verify(p.Signature, p.Timestamp, p.Nonce, p.Encrypt))
		plain, err := c.Decrypt(p.Encrypt)
		require.NoError(t, err)
		for _, want := range []string{"<FromUserName><![CDATA[" + p.FromUser + "]]></FromUserName>",
			"<CreateTime>" + p.CreateTime + "</CreateTime>", "<Content><![CDATA[" + p.Content + "]]></Content>",
			"<MsgId>" + p.MsgID + "</MsgId>", "<AgentID>" + p.AgentID + "</AgentID>"} {
			require.Contains(t, string(plain), want)
		}
	})
	t.Run("self-computed encrypt", func(t *testing.T) {
		s := v.Self
		enc, err := c.Encrypt([]byte(s.Random), []byte(s.Msg))
		require.NoError(t, err)
		require.Equal(t, s.Encrypt, enc)
		require.Equal(t, s.Signature, c.Signature(s.Timestamp, s.Nonce, enc))
		plain, err := c.Decrypt(enc)
		require.NoError(t, err)
		require.Equal(t, s.Msg, string(plain))
	})
}

func TestCryptoRefuses(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	c := vectorCrypto(t, v)
	other, err := wecom.NewCrypto(v.Token, v.EncodingAESKey, "ww-another-corp")
	require.NoError(t, err)
	robot, err := wecom.NewCrypto(v.Token, v.EncodingAESKey, "")
	require.NoError(t, err)
	good, err := c.Encrypt(nil, []byte("<xml/>"))
	require.NoError(t, err)
	forRobot, err := robot.Encrypt(nil, []byte(`{"msgid":"1"}`))
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		c    *wecom.Crypto
		enc  string
	}{
		{name: "another receive id", c: other, enc: good},
		{name: "robot key against app id", c: c, enc: forRobot},
		{name: "not base64", c: c, enc: "%%%"},
		{name: "not whole blocks", c: c, enc: "AAAA"},
		{name: "empty", c: c, enc: ""},
		{name: "flipped last block", c: c, enc: good[:len(good)-4] + "AAA="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.Decrypt(tc.enc)
			require.ErrorIs(t, err, wecom.ErrCrypto)
		})
	}
	plain, err := robot.Decrypt(forRobot)
	require.NoError(t, err)
	require.Equal(t, `{"msgid":"1"}`, string(plain))

	u := v.URLCheck
	require.False(t, c.Verify(strings.Repeat("0", 40), u.Timestamp, u.Nonce, u.Echostr))
	require.False(t, c.Verify(u.Signature, u.Timestamp, u.Nonce+"1", u.Echostr))
	_, err = wecom.NewCrypto(v.Token, "short", v.ReceiveID)
	require.ErrorIs(t, err, wecom.ErrCrypto)
}
