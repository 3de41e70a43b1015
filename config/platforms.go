package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// FeishuConfig is the Feishu (or Lark) app cards are sent from and clicks
// come back to. Create a custom app in the developer console: see the
// README.
type FeishuConfig struct {
	// Enabled delivers cards to users with a feishu id in the org file and
	// takes their clicks and messages.
	Enabled bool `yaml:"enabled"`
	// AppID is the app's id (cli_…).
	AppID string `yaml:"app_id"`
	// AppSecret, VerificationToken and EncryptKey are the app's
	// credentials and its event subscription's token and key; environment
	// only. The encrypt key is required: without it Feishu signs nothing.
	AppSecret         Secret `yaml:"app_secret"`
	VerificationToken Secret `yaml:"verification_token"`
	EncryptKey        Secret `yaml:"encrypt_key"`
	// Mode is how events and clicks arrive: webhook (Feishu posts to
	// /callbacks/feishu, which must be reachable from the internet) or
	// stream (cardflow keeps a long connection open to Feishu: no public
	// URL needed).
	Mode string `yaml:"mode"`
	// BaseURL is the open platform: https://open.feishu.cn, or
	// https://open.larksuite.com for Lark.
	BaseURL string `yaml:"base_url"`
	// Timeout bounds one call to the platform.
	Timeout time.Duration `yaml:"timeout"`
	// Robots are custom group bots for alerts and digests, each
	// "name=<webhook URL>#<signing secret>"; environment only.
	Robots []Secret `yaml:"robots"`
}

// WeComConfig is the WeCom (企业微信) self-built app cards are sent from.
type WeComConfig struct {
	Enabled bool `yaml:"enabled"`
	// CorpID is the company's id (ww…), AgentID the app's.
	CorpID  string `yaml:"corp_id"`
	AgentID int    `yaml:"agent_id"`
	// Secret is the app's secret; Token and EncodingAESKey are its
	// callback's (接收消息) token and key. Environment only.
	Secret         Secret `yaml:"secret"`
	Token          Secret `yaml:"token"`
	EncodingAESKey Secret `yaml:"encoding_aes_key"`
	// BotToken and BotEncodingAESKey are the smart robot's (智能机器人, API
	// mode) callback token and key, for commands in group chats; optional.
	BotToken          Secret `yaml:"bot_token"`
	BotEncodingAESKey Secret `yaml:"bot_encoding_aes_key"`
	// BaseURL is https://qyapi.weixin.qq.com, or a private deployment's.
	BaseURL string        `yaml:"base_url"`
	Timeout time.Duration `yaml:"timeout"`
	// Robots are group robots (群机器人) for alerts and digests, each
	// "name=<webhook URL>"; environment only.
	Robots []Secret `yaml:"robots"`
}

// DingTalkConfig is the DingTalk (钉钉) app and its robot.
type DingTalkConfig struct {
	Enabled bool `yaml:"enabled"`
	// ClientID is the app's AppKey; ClientSecret its AppSecret
	// (environment only).
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	// RobotCode is the app robot's code (usually the AppKey).
	RobotCode string `yaml:"robot_code"`
	// CardTemplateID is the interactive card template (xxx.schema) made
	// from the README's template in the card builder.
	CardTemplateID string `yaml:"card_template_id"`
	// Mode is stream (a long connection to DingTalk, no public URL: the
	// recommended way) or webhook (DingTalk posts robot messages and
	// events to /callbacks/dingtalk).
	Mode string `yaml:"mode"`
	// Token and AESKey are the HTTP event subscription's token and key,
	// needed in webhook mode; environment only.
	Token  Secret `yaml:"token"`
	AESKey Secret `yaml:"aes_key"`
	// BaseURL is https://api.dingtalk.com; robot webhooks carry their own
	// host.
	BaseURL string        `yaml:"base_url"`
	Timeout time.Duration `yaml:"timeout"`
	// Robots are custom group robots (自定义机器人) for alerts and digests,
	// each "name=<webhook URL>#<signing secret>"; environment only.
	Robots []Secret `yaml:"robots"`
}

// Robot is one group robot of a platform section.
type Robot struct {
	Name string
	// URL is the webhook without the signing secret; it holds the robot's
	// access token, so it is a Secret too.
	URL Secret
	// SignSecret signs each call (Feishu, DingTalk); "" for none.
	SignSecret Secret
}

// Modes of receiving events.
const (
	ModeWebhook = "webhook"
	ModeStream  = "stream"
)

// robotName is the shape of the names configuration gives robots, order
// sources and pollers.
var robotName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// ParseRobots reads a platform's robots entries ("name=URL#secret").
func ParseRobots(entries []Secret) ([]Robot, error) {
	var out []Robot
	seen := map[string]bool{}
	for i, e := range entries {
		name, rest, ok := strings.Cut(e.Reveal(), "=")
		name = strings.TrimSpace(name)
		if !ok || !robotName.MatchString(name) {
			return nil, fmt.Errorf("item %d: expected name=<webhook URL>, the name in lower-case letters, digits, - and _", i)
		}
		if seen[name] {
			return nil, fmt.Errorf("item %d: robot %q is named twice", i, name)
		}
		seen[name] = true
		raw, sign, _ := strings.Cut(strings.TrimSpace(rest), "#")
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			// The URL is not shown: it holds the robot's token.
			return nil, fmt.Errorf("item %d (robot %s): the webhook is not an http(s) URL", i, name)
		}
		out = append(out, Robot{Name: name, URL: Secret(raw), SignSecret: Secret(sign)})
	}
	return out, nil
}

func (f FeishuConfig) validate(p *problems) {
	if !f.Enabled {
		return
	}
	required(p, "feishu.app_id", f.AppID, "the app's id (cli_…)")
	requiredSecret(p, "feishu.app_secret", f.AppSecret)
	requiredSecret(p, "feishu.verification_token", f.VerificationToken)
	requiredSecret(p, "feishu.encrypt_key", f.EncryptKey)
	checkMode(p, "feishu.mode", f.Mode)
	checkBase(p, "feishu.base_url", f.BaseURL, "https://open.feishu.cn")
	checkTimeout(p, "feishu.timeout", f.Timeout)
	checkRobots(p, "feishu.robots", f.Robots, true)
}

func (w WeComConfig) validate(p *problems) {
	if !w.Enabled {
		return
	}
	required(p, "wecom.corp_id", w.CorpID, "the company's id (ww…)")
	if w.AgentID <= 0 {
		p.inSection("wecom.agent_id", "required: the app's AgentId, a positive number, got %d", w.AgentID)
	}
	requiredSecret(p, "wecom.secret", w.Secret)
	requiredSecret(p, "wecom.token", w.Token)
	checkAESKey(p, "wecom.encoding_aes_key", w.EncodingAESKey, true)
	if w.BotToken.IsZero() != w.BotEncodingAESKey.IsZero() {
		p.inSection("wecom.bot_token", "the smart robot needs both bot_token and bot_encoding_aes_key, or neither")
	}
	checkAESKey(p, "wecom.bot_encoding_aes_key", w.BotEncodingAESKey, false)
	checkBase(p, "wecom.base_url", w.BaseURL, "https://qyapi.weixin.qq.com")
	checkTimeout(p, "wecom.timeout", w.Timeout)
	checkRobots(p, "wecom.robots", w.Robots, false)
}

func (d DingTalkConfig) validate(p *problems) {
	if !d.Enabled {
		return
	}
	required(p, "dingtalk.client_id", d.ClientID, "the app's AppKey")
	requiredSecret(p, "dingtalk.client_secret", d.ClientSecret)
	required(p, "dingtalk.robot_code", d.RobotCode, "the app robot's code")
	required(p, "dingtalk.card_template_id", d.CardTemplateID, "the card template's id (….schema)")
	checkMode(p, "dingtalk.mode", d.Mode)
	if d.Mode == ModeWebhook {
		requiredSecret(p, "dingtalk.token", d.Token)
		checkAESKey(p, "dingtalk.aes_key", d.AESKey, true)
	}
	checkBase(p, "dingtalk.base_url", d.BaseURL, "https://api.dingtalk.com")
	checkTimeout(p, "dingtalk.timeout", d.Timeout)
	checkRobots(p, "dingtalk.robots", d.Robots, true)
}

func required(p *problems, key, v, what string) {
	if strings.TrimSpace(v) == "" {
		p.inSection(key, "required: %s", what)
	}
}

func requiredSecret(p *problems, key string, s Secret) {
	if s.IsZero() {
		p.inSection(key, "required: set it in the environment variable %s", EnvVar(key))
	}
}

func checkMode(p *problems, key, mode string) {
	if mode != ModeWebhook && mode != ModeStream {
		p.inSection(key, "must be webhook or stream, got %q", mode)
	}
}

func checkBase(p *problems, key, base, example string) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		p.inSection(key, "expected an http(s) URL such as %s, got %q", example, base)
	}
}

func checkTimeout(p *problems, key string, d time.Duration) {
	if d <= 0 || d > time.Minute {
		p.inSection(key, "must be positive and at most 1m, got %s", d)
	}
}

// checkAESKey checks an EncodingAESKey: 43 characters of base64 that
// decode to 32 bytes.
func checkAESKey(p *problems, key string, s Secret, need bool) {
	switch {
	case s.IsZero() && need:
		requiredSecret(p, key, s)
	case !s.IsZero() && !isBase64Key(s.Reveal()):
		p.inSection(key, "must be the 43-character EncodingAESKey the admin console shows")
	}
}

var base64Key = regexp.MustCompile(`^[A-Za-z0-9+/]{43}$`)

func isBase64Key(s string) bool { return base64Key.MatchString(s) }

func checkRobots(p *problems, key string, robots []Secret, signed bool) {
	list, err := ParseRobots(robots)
	if err != nil {
		p.inSection(key, "%v", err)
		return
	}
	for _, r := range list {
		if signed && r.SignSecret.IsZero() {
			p.inSection(key, "robot %s: add its signing secret after the URL as #<secret> (加签), so that its messages cannot be forged", r.Name)
		}
	}
}

// inSection reports a problem of a platform section's key; a key left at
// its default is blamed on whoever turned the section on, so the message
// points at the file line (or variable) to fix.
func (p *problems) inSection(key, format string, args ...any) {
	section, _, _ := strings.Cut(key, ".")
	if p.cfg.Source(key) == "default" {
		p.addFrom(key, section+".enabled", format, args...)
		return
	}
	p.add(key, format, args...)
}
