package dingtalk_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/bot/bottest"
	"cardflow/bot/dingtalk"
	"cardflow/bot/dingtalk/dingtalktest"
	"cardflow/flows"
)

// TestStreamSecurity: every callback that must not act fails closed. The
// state is unchanged, the answer is a refusal (a 4xx ack, or a toast
// from the engine), and the log says why without a secret.
func TestStreamSecurity(t *testing.T) {
	t.Parallel()
	type fixture struct {
		w                *world
		insts            []string
		mine, other, sun string // tasks: 钱多多's, another instance's (of 孙会计), 孙会计's
		card             string // 钱多多's card
	}
	click := func(user, id string, extra map[string]any) func(f fixture) []byte {
		return func(f fixture) []byte {
			id = strings.NewReplacer("MINE", f.mine, "OTHER", f.other, "SUN", f.sun).Replace(id)
			params := map[string]any{"id": id}
			for k, v := range extra {
				params[k] = v
			}
			return dingtalktest.ClickPayload(dingtalktest.Click{OutTrackID: f.card, UserID: user, Params: params})
		}
	}
	for _, tc := range []struct {
		name  string
		topic string
		data  func(f fixture) []byte
		// code is the ack's; toast, when set, the kind of toast answered.
		code   int
		toast  bot.ToastKind
		reason string
		// before runs before the click.
		before func(t *testing.T, f fixture)
	}{
		{name: "unknown user", data: click("9999", "approve|t:MINE:1", nil), code: 200, toast: bot.ToastError},
		{name: "not the assignee", data: click("0301", "approve|t:MINE:1", nil), code: 200, toast: bot.ToastError},
		{name: "another instance's task", data: click("0202", "approve|t:OTHER:1", nil), code: 200, toast: bot.ToastError},
		{name: "an older version: decided by another meanwhile", data: click("0202", "approve|t:MINE:1", nil), code: 200,
			toast: bot.ToastInfo, before: func(t *testing.T, f fixture) {
				_, err := f.w.engine.Act(t.Context(), flows.Action{Kind: flows.ActApprove, Actor: "u_sun", TaskID: f.sun, Key: "k-sun"})
				require.NoError(t, err)
			}},
		{name: "a forged action", data: click("0202", "delete|t:MINE:1", nil), code: 400, reason: "button id"},
		{name: "no button id", data: click("0202", "", nil), code: 400, reason: "button id"},
		{name: "an input that is not text", data: click("0202", "approve|t:MINE:1", map[string]any{"comment": map[string]any{"a": 1}}),
			code: 400, reason: "input"},
		{name: "a comment one character longer than the engine takes", code: 200, toast: bot.ToastError,
			data: click("0202", "reject|t:MINE:1", map[string]any{"comment": strings.Repeat("不", flows.MaxCommentLength+1)})},
		{name: "an input longer than any field", code: 200, toast: bot.ToastError, reason: "click input refused",
			data: click("0202", "reject|t:MINE:1", map[string]any{"comment": strings.Repeat("不", 3*flows.MaxCommentLength)})},
		{name: "no user", data: click("", "approve|t:MINE:1", nil), code: 400, reason: "userId"},
		{name: "malformed JSON", data: func(fixture) []byte { return []byte(`{"userId":`) }, code: 400, reason: "not JSON"},
		{name: "malformed content", code: 400, reason: "content",
			data: func(f fixture) []byte { return []byte(`{"userId":"0202","content":"{nope"}`) }},
		{name: "oversized data", code: 400, reason: "over 65536 bytes",
			data: func(f fixture) []byte { return []byte(`{"userId":"0202","x":"` + strings.Repeat("a", 70_000) + `"}`) }},
		{name: "message without a sender", topic: dingtalk.TopicBotMessage, code: 400, reason: "senderStaffId",
			data: func(fixture) []byte { return []byte(`{"msgId":"m1","msgtype":"text","conversationType":"1"}`) }},
		{name: "unknown topic", topic: "/v1.0/other", code: 400, reason: "no handler",
			data: func(fixture) []byte { return []byte(`{}`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOptions{})
			w.run(t)
			inst, tasks := w.start(t, "TM-S1")
			inst2, others := w.start(t, "TM-S2")
			f := fixture{w: w, insts: []string{inst, inst2}, mine: w.taskOf(t, tasks, "u_qian"), sun: w.taskOf(t, tasks, "u_sun"),
				other: w.taskOf(t, others, "u_sun")}
			f.card = w.sendTask(t, "u_qian", "0202", f.mine)
			if tc.before != nil {
				tc.before(t, f)
			}
			audit := func() string {
				var all []flows.AuditEntry
				for _, id := range f.insts {
					a, err := w.store.Audit(t.Context(), id)
					require.NoError(t, err)
					all = append(all, a...)
				}
				return mustJSON(t, all)
			}
			before := audit()
			topic := tc.topic
			if topic == "" {
				topic = dingtalk.TopicCardCallback
			}
			ack, _, err := w.fake.Push(t.Context(), topic, tc.data(f))
			require.NoError(t, err)
			require.Equal(t, tc.code, ack.Code, ack.Message)
			if tc.toast != "" {
				var data struct {
					Response struct {
						UserPrivateData struct {
							CardParamMap map[string]string `json:"cardParamMap"`
						} `json:"userPrivateData"`
					} `json:"response"`
				}
				require.NoError(t, json.Unmarshal([]byte(ack.Data), &data))
				toast := data.Response.UserPrivateData.CardParamMap
				require.Equal(t, string(tc.toast), toast[dingtalk.ParamToastKind], toast[dingtalk.ParamToast])
			}
			if tc.reason != "" {
				require.Contains(t, w.log.String(), tc.reason)
			}
			require.Equal(t, before, audit(), "nothing changed")
			bottest.AssertNoLeak(t, []string{clientSecret}, nil, w.log.String())
		})
	}
}

// TestMalformedFramesLeaveTheConnectionUp: frames that cannot be read are
// dropped, and the next click is answered on the same connection.
func TestMalformedFramesLeaveTheConnectionUp(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.run(t)
	for _, raw := range []string{`not json`, `{"type":"CALLBACK","headers":{}}`, `{"type":"NOPE","headers":{"messageId":"m"}}`, `[]`} {
		require.NoError(t, w.fake.PushRaw([]byte(raw)))
	}
	require.NoError(t, w.fake.Ping())
	_, tasks := w.start(t, "TM-M")
	task := w.taskOf(t, tasks, "u_qian")
	id := w.sendTask(t, "u_qian", "0202", task)
	ans, err := w.fake.ClickButton(t.Context(), id, "0202", "同意", nil)
	require.NoError(t, err)
	require.Equal(t, 200, ans.Ack.Code)
	require.Equal(t, 1, w.fake.Connections())
	require.Contains(t, w.log.String(), "stream frame refused")
}
