package wecom

import (
	"fmt"

	"cardflow/bot"
)

// wording is what a WeCom card says of its own: status words, the link's
// title, the line about buttons a template card cannot offer.
type wording struct {
	en    bool
	open  string
	image string
	todo  string
}

func words(l bot.Locale) wording {
	if l == bot.LocaleEN {
		return wording{en: true, open: "Open details", image: "Chart", todo: "My to-dos"}
	}
	return wording{open: "查看详情", image: "图表", todo: "我的待办"}
}

func (w wording) status(s bot.Status) string {
	zh, en := statusWords(s)
	if w.en {
		return en
	}
	return zh
}

func statusWords(s bot.Status) (string, string) {
	switch s {
	case bot.StatusPending:
		return "待处理", "To do"
	case bot.StatusApproved:
		return "已通过", "Approved"
	case bot.StatusRejected:
		return "已驳回", "Rejected"
	case bot.StatusReturned:
		return "已退回", "Returned"
	case bot.StatusDone:
		return "已结束", "Closed"
	case bot.StatusAlert:
		return "告警", "Alert"
	case bot.StatusAlertWarn:
		return "告警处理中", "Alert in hand"
	}
	return "通知", "Notice"
}

// leftOut says which buttons need something typed, which a WeCom card
// cannot take, and where to do them when the card links to the web page.
func (w wording) leftOut(buttons []string, link bool) string {
	var labels string
	for i, b := range buttons {
		switch {
		case w.en && i > 0:
			labels += ", “" + b + "”"
		case w.en:
			labels += "“" + b + "”"
		default:
			labels += "「" + b + "」"
		}
	}
	switch {
	case w.en && link:
		return fmt.Sprintf("%s need text this card cannot take: use “Open details” to do that.", labels)
	case w.en:
		return fmt.Sprintf("%s need text this card cannot take.", labels)
	case link:
		return fmt.Sprintf("%s需要填写内容，卡片上无法填写，请点「查看详情」处理。", labels)
	}
	return fmt.Sprintf("%s需要填写内容，卡片上无法填写。", labels)
}
