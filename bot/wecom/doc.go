// Package wecom is cardflow's WeCom (企业微信) platform: a self-built app
// sends template cards (模板卡片) to people and updates them in place with
// the single-use response_code WeCom hands out; its callback URL
// (/callbacks/wecom) receives the encrypted clicks and 1:1 messages; the
// smart robot (智能机器人, API mode) takes commands in group chats; group
// robots (群机器人) post alerts and digests.
//
// The message crypto (WXBizMsgCrypt) is written here rather than taken
// from an SDK: it is a hundred lines, tested with WeCom's published
// vectors, and the SDK that has it brings a Redis client of another major
// version with it.
package wecom
