// Package dingtalk is cardflow's DingTalk (钉钉) platform: cards are
// interactive cards (互动卡片) sent by the app's robot, clicks and messages
// to the robot arrive on the Stream connection (Stream 模式), and custom
// group robots (自定义机器人) post alerts and digests.
//
// # Sending
//
// A small typed client calls the OpenAPI (https://api.dingtalk.com): the
// app's access token (POST /v1.0/oauth2/accessToken, kept by bot/token and
// sent in the x-acs-dingtalk-access-token header, fetched again once when
// DingTalk calls it invalid), POST /v1.0/card/instances/createAndDeliver
// to send a card to a person (open space dtv1.card//IM_ROBOT.<userId>) or
// a group (dtv1.card//IM_GROUP.<openConversationId>), and PUT
// /v1.0/card/instances to update it by its outTrackId, which is the
// message id the pipeline keeps. The body's success and codes are checked
// even on HTTP 200: throttling (HTTP 429, 90002, 90019, the per-IP ban
// 1111 with its wait) is queue.RateLimited, a 5xx or a transport failure
// may be retried, anything else (an unknown user, a bad request) is
// permanent. Errors never carry the token, the secret or a robot's URL.
//
// # The card template
//
// DingTalk draws interactive cards from a template made in its card
// builder (卡片搭建平台); cardflow fills the template's variables through
// cardParamMap, strings only, lists JSON-encoded. The template must
// declare these variables (Render fills every one on every card):
//
//	title         the card's title
//	subtitle      the step, who applied, when
//	status        pending | approved | rejected | returned | done | info | alert | alert_warn
//	status_color  blue | green | red | orange | gray: the header's colour
//	markdown      the body as markdown: fields (**label**：value), tables as
//	              lists, the text, a picture, a link
//	buttons       a JSON list of {"label", "style", "id"}; style is primary |
//	              danger | default
//	has_buttons   "true" | "false", to show or hide the button row
//	inputs        a JSON list of {"name", "label", "kind", "placeholder",
//	              "required", "options": [{"value", "label"}]}; kind is text |
//	              number | date | select
//	has_inputs    "true" | "false"
//	status_line   what happened, after a decision
//	note          a small footer
//
// and two private variables (userPrivateData), which a click's answer
// sets for the clicker alone:
//
//	toast         a short message: done, refused, already decided
//	toast_kind    success | info | warning | error
//
// The button row loops over buttons. Each button's callback (回传请求)
// sends the param "id" bound to the item's id, and each input its value
// under its name; DingTalk adds the clicker's userId. The id is
// "action|payload" or "action|payload|values" (see ButtonID): the action
// and what it acts on, and the values the button fixes (where a return
// goes, how long a snooze lasts). The acting user comes from DingTalk's
// userId only, never from the id.
//
// # Receiving
//
// Stream mode (the default, and the way clicks arrive): Run opens
// POST /v1.0/gateway/connections/open and a WebSocket to the endpoint it
// names, subscribed to the robot's messages (/v1.0/im/bot/messages/get)
// and card callbacks (/v1.0/card/instances/callback), and reconnects with
// backoff when it drops. It uses the frame types of
// github.com/open-dingtalk/dingtalk-stream-sdk-go but not its StreamClient,
// which cannot be stopped and is not safe for concurrent use (see Run). A
// click is answered in its ack with the card as it now stands and the
// toast; a robot message (1:1, or @ the robot in a group) goes to the
// command router and its answer cards are sent with createAndDeliver to
// the sender or the group. Each is handled once per stream message id
// (a click) or msgId (a message) through bot.AnswerOnce: DingTalk
// redelivers a frame acked late, and the redelivery gets the first answer.
//
// Webhook mode takes robot messages at /callbacks/dingtalk, signed with
// the timestamp and sign headers (HMAC-SHA256 of timestamp+"\n"+secret,
// keyed by the app secret; see Sign). That signature does not cover the
// body, so cardflow accepts five minutes of skew rather than DingTalk's
// hour, and dedupes by msgId. It also answers the HTTP event
// subscription's URL check (check_url; encrypted with token and aes_key).
// Card callbacks over HTTP are not signed by DingTalk, so cardflow takes
// none: in webhook mode cards cannot be clicked; use stream mode.
//
// # Group robots
//
// A custom robot posts a card as markdown (a robot's message cannot call
// back, so without buttons) to its webhook, signed with its secret. Its
// limit is 20 messages a minute, after which DingTalk blocks it for ten
// minutes (errcode 130101); Limits declares a steady 20 a minute and a
// 130101 answer is rate limited for ten minutes.
package dingtalk
