package wecom

// TemplateCard is a WeCom template card (模板卡片) as message/send,
// update_template_card and the group robot take it. Only the fields
// cardflow renders are here.
type TemplateCard struct {
	// CardType is button_interaction (a card with buttons) or text_notice.
	CardType  string    `json:"card_type"`
	Source    *Source   `json:"source,omitempty"`
	MainTitle MainTitle `json:"main_title"`
	// SubTitleText is the body: the status line, the text, a note.
	SubTitleText string `json:"sub_title_text,omitempty"`
	// QuoteArea holds what does not fit the six horizontal items: more
	// fields, tables.
	QuoteArea             *QuoteArea          `json:"quote_area,omitempty"`
	HorizontalContentList []HorizontalContent `json:"horizontal_content_list,omitempty"`
	JumpList              []Jump              `json:"jump_list,omitempty"`
	CardAction            *CardAction         `json:"card_action,omitempty"`
	// ActionMenu is the menu at the top right: it makes a text_notice card
	// one WeCom lets the app update.
	ActionMenu *ActionMenu `json:"action_menu,omitempty"`
	// TaskID names the card message: unique per app, at most 128 bytes of
	// [0-9A-Za-z_-@]. A click's callback carries it back.
	TaskID     string           `json:"task_id,omitempty"`
	ButtonList []TemplateButton `json:"button_list,omitempty"`
}

// Card types cardflow sends.
const (
	CardButtons = "button_interaction"
	CardNotice  = "text_notice"
)

// Source is the small line at the top: what the card is, in colour.
type Source struct {
	Desc string `json:"desc"`
	// DescColor is 0 grey, 1 black, 2 red, 3 green.
	DescColor int `json:"desc_color,omitempty"`
}

// MainTitle is the title and the line under it.
type MainTitle struct {
	Title string `json:"title"`
	Desc  string `json:"desc,omitempty"`
}

// QuoteArea is a quoted block under the body.
type QuoteArea struct {
	Title     string `json:"title,omitempty"`
	QuoteText string `json:"quote_text,omitempty"`
}

// HorizontalContent is one label and value.
type HorizontalContent struct {
	KeyName string `json:"keyname"`
	Value   string `json:"value,omitempty"`
}

// Jump is a link under the card; Type 1 opens URL.
type Jump struct {
	Type  int    `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// CardAction is what a tap on the card opens; Type 1 opens URL.
type CardAction struct {
	Type int    `json:"type"`
	URL  string `json:"url,omitempty"`
}

// ActionMenu is a card's menu; a choice comes back as a
// template_card_menu_event with the item's key.
type ActionMenu struct {
	Desc       string       `json:"desc,omitempty"`
	ActionList []MenuAction `json:"action_list"`
}

// MenuAction is one item of a card's menu.
type MenuAction struct {
	Text string `json:"text"`
	Key  string `json:"key"`
}

// TemplateButton is a button; Key comes back in the click's EventKey.
type TemplateButton struct {
	Text string `json:"text"`
	// Style is 1 blue, 2 grey, 3 red.
	Style int    `json:"style,omitempty"`
	Key   string `json:"key"`
}

// WeCom's limits on a template card.
const (
	maxButtons    = 6
	maxHorizontal = 6
	maxKeyBytes   = 1024
	maxTaskID     = 128
	// maxTitle keeps the title on one line (WeCom suggests 26 characters).
	maxTitle = 26
	// maxSubTitle and maxQuote bound the body and the quote; WeCom
	// suggests 112 characters for the body and cuts what is much longer.
	maxSubTitle = 300
	maxQuote    = 600
	maxDesc     = 30
)
