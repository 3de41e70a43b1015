// Package bot is the platform-neutral card model, the delivery pipeline and
// the chat-command router; each chat platform lives in a sub-package of its
// own (bot/feishu, bot/wecom, bot/dingtalk, bot/sim).
//
// For now it declares Store, what bot must remember between deliveries and
// callbacks. storage/postgres and storage/sqlite implement it, and
// storage/storetest holds the conformance suite both pass.
package bot
