package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlatformSectionsFromTheEnvironment(t *testing.T) {
	t.Parallel()
	secret := "whsec-robot-9f8e7d"
	c, err := Load("", env(map[string]string{
		"CARDFLOW_FEISHU_ENABLED":            "true",
		"CARDFLOW_FEISHU_APP_ID":             "cli_a1",
		"CARDFLOW_FEISHU_APP_SECRET":         "app-secret-value",
		"CARDFLOW_FEISHU_VERIFICATION_TOKEN": "vtoken",
		"CARDFLOW_FEISHU_ENCRYPT_KEY":        "encrypt-key",
		"CARDFLOW_FEISHU_ROBOTS":             "ops=https://open.feishu.cn/open-apis/bot/v2/hook/abc#" + secret,
		"CARDFLOW_WECOM_ENABLED":             "true",
		"CARDFLOW_WECOM_CORP_ID":             "wx5823bf96d3bd56c7",
		"CARDFLOW_WECOM_AGENT_ID":            "1000002",
		"CARDFLOW_WECOM_SECRET":              "corp-secret",
		"CARDFLOW_WECOM_TOKEN":               "QDG6eK",
		"CARDFLOW_WECOM_ENCODING_AES_KEY":    "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
		"CARDFLOW_DINGTALK_ENABLED":          "true",
		"CARDFLOW_DINGTALK_CLIENT_ID":        "dingabc",
		"CARDFLOW_DINGTALK_CLIENT_SECRET":    "ding-secret",
		"CARDFLOW_DINGTALK_ROBOT_CODE":       "dingabc",
		"CARDFLOW_DINGTALK_CARD_TEMPLATE_ID": "tpl.schema",
	}))
	require.NoError(t, err)
	require.Equal(t, ModeStream, c.DingTalk.Mode)
	robots, err := ParseRobots(c.Feishu.Robots)
	require.NoError(t, err)
	require.Equal(t, []Robot{{Name: "ops", URL: "https://open.feishu.cn/open-apis/bot/v2/hook/abc", SignSecret: Secret(secret)}}, robots)
}

func TestParseRobots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []Secret
		want    string
	}{
		{name: "no name", entries: []Secret{"https://x.example/hook?key=abc"}, want: "item 0: expected name=<webhook URL>"},
		{name: "twice", entries: []Secret{"a=https://x.example/1", "a=https://x.example/2"}, want: `item 1: robot "a" is named twice`},
		{name: "not a URL", entries: []Secret{"a=ftp://x.example/key-abc"}, want: "item 0 (robot a): the webhook is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseRobots(tt.entries)
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "key-abc", "the URL holds a token and is never shown")
		})
	}
}

func TestUnsignedRobotRefused(t *testing.T) {
	t.Parallel()
	c := Default()
	c.DingTalk = DingTalkConfig{Enabled: true, ClientID: "k", ClientSecret: "s", RobotCode: "k", CardTemplateID: "t.schema",
		Mode: ModeStream, BaseURL: "https://api.dingtalk.com", Timeout: 1e9,
		Robots: []Secret{"ops=https://oapi.dingtalk.com/robot/send?access_token=tok"}}
	require.ErrorContains(t, c.Validate(), "dingtalk.robots: robot ops: add its signing secret")
}
