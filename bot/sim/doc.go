// Package sim is the chat simulator: a fourth chat platform, in the
// browser. It implements bot.Platform like bot/feishu, bot/wecom and
// bot/dingtalk, so cards reach it through the same pipeline, outbox and
// queue as the real ones; instead of calling a chat app, Send and Update
// keep each reader's cards in memory (the last Config.InboxSize of them)
// and tell the web page, which shows them as a chat app would.
//
// Handler serves that page and its JSON API: pick a person of the org (or
// a group chat), read the cards they received, click their buttons, type a
// reason, send a command (/todo, 待办, /help), or start a flow from a form
// built from the flow's typed fields. Clicks and messages go to a
// bot.Inbound exactly as a real platform's decoded callbacks do; a start
// goes to flows.Engine.Start as a person's /start command would.
//
// # Trust
//
// The simulator is a trusted demo tool. A real platform signs the user id
// of every callback; the simulator takes the user a request names, as a
// chat app takes its logged-in user: whoever can open the page can act as
// anyone of the org. So the page is served by `cardflow demo`, and
// elsewhere only when configured, behind the admin token; the package
// itself does not authenticate (the server mounts and guards it). Every
// input is still validated, bounded and answered with clear errors, and the
// engine still checks that the named person may do what they ask.
//
// The simulator forgets everything on restart: Update of a message it does
// not know shows the card anew.
package sim
