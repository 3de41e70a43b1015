package dingtalk_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot/bottest"
	"cardflow/bot/dingtalk"
	"cardflow/bot/dingtalk/dingtalktest"
	"cardflow/config"
)

func TestSignVectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/sign_vectors.json")
	require.NoError(t, err)
	var file struct {
		Vectors []struct{ Secret, Timestamp, Sign string }
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.NotEmpty(t, file.Vectors)
	for _, v := range file.Vectors {
		require.Equal(t, v.Sign, dingtalk.Sign(v.Secret, v.Timestamp))
	}
}

// TestWebhookRobotMessages: in webhook mode DingTalk posts robot messages
// signed with the app secret; only fresh, correctly signed, well-formed,
// first deliveries are answered.
func TestWebhookRobotMessages(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	w := newWorld(t, worldOptions{mode: config.ModeWebhook, now: func() time.Time { return now }})
	srv := httptest.NewServer(w.platform.Handler())
	t.Cleanup(srv.Close)
	ms := now.UnixMilli()
	post := func(ts, sign, body string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("timestamp", ts)
		req.Header.Set("sign", sign)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	good := string(dingtalktest.MessagePayload(dingtalktest.Message{MsgID: "msgW1", UserID: "0202", Text: "/help"}))
	sign := func(ts int64) string { return dingtalk.Sign(clientSecret, strconv.FormatInt(ts, 10)) }
	for _, tc := range []struct {
		name     string
		ts, sign string
		body     string
		status   int
		reason   string
	}{
		{name: "forged sign", ts: strconv.FormatInt(ms, 10), sign: dingtalk.Sign("other-secret", strconv.FormatInt(ms, 10)),
			body: good, status: 401, reason: "sign does not match"},
		{name: "no sign", ts: strconv.FormatInt(ms, 10), body: good, status: 401, reason: "sign"},
		{name: "stale", ts: strconv.FormatInt(ms-6*60_000, 10), sign: sign(ms - 6*60_000), body: good, status: 401, reason: "timestamp outside"},
		{name: "future", ts: strconv.FormatInt(ms+6*60_000, 10), sign: sign(ms + 6*60_000), body: good, status: 401, reason: "timestamp outside"},
		{name: "not a number", ts: "soon", sign: sign(ms), body: good, status: 401, reason: "timestamp"},
		{name: "malformed JSON", ts: strconv.FormatInt(ms, 10), sign: sign(ms), body: `{"msgId":`, status: 400, reason: "not JSON"},
		{name: "oversized", ts: strconv.FormatInt(ms, 10), sign: sign(ms), body: `{"x":"` + strings.Repeat("a", 70_000) + `"}`,
			status: 413, reason: "size limit"},
	} {
		require.Equal(t, tc.status, post(tc.ts, tc.sign, tc.body), tc.name)
		require.Contains(t, w.log.String(), tc.reason, tc.name)
	}
	require.Empty(t, w.fake.Cards(), "nothing refused was answered")

	// Signed and fresh (4 minutes old): answered with a card; the replay
	// is acknowledged and not answered again.
	ts := ms - 4*60_000
	require.Equal(t, 200, post(strconv.FormatInt(ts, 10), sign(ts), good))
	require.Equal(t, 200, post(strconv.FormatInt(ts, 10), sign(ts), good))
	require.NoError(t, w.platform.Close())
	require.Len(t, w.fake.CardsFor("0202"), 1)
	require.Contains(t, w.log.String(), "redelivered message not answered again")
	bottest.AssertNoLeak(t, []string{clientSecret}, nil, w.log.String())

	// The fake fires the same way.
	status, _, err := w.fake.FireMessage(t.Context(), srv.URL, dingtalktest.Message{UserID: "0202", Text: "/help"}, ms)
	require.NoError(t, err)
	require.Equal(t, 200, status)
}

func TestWebhookOffInStreamMode(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	rec := httptest.NewRecorder()
	w.platform.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/callbacks/dingtalk", strings.NewReader("{}")))
	require.Equal(t, http.StatusNotFound, rec.Code)
	// And Run returns at once in webhook mode.
	wh := newWorld(t, worldOptions{mode: config.ModeWebhook})
	require.NoError(t, wh.platform.Run(t.Context()))
	rec = httptest.NewRecorder()
	wh.platform.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callbacks/dingtalk", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

// TestEncryptedEvents: the HTTP event subscription's URL check is answered
// with an encrypted "success"; forged, stale and undecryptable events are
// refused.
func TestEncryptedEvents(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	w := newWorld(t, worldOptions{mode: config.ModeWebhook, now: func() time.Time { return now }})
	srv := httptest.NewServer(w.platform.Handler())
	t.Cleanup(srv.Close)
	check := map[string]string{"EventType": "check_url"}

	ans, err := w.fake.FireEvent(t.Context(), srv.URL, eventToken, eventAESKey, check, now)
	require.NoError(t, err)
	require.Equal(t, 200, ans.Status)
	require.Equal(t, "success", ans.Plain)
	ans, err = w.fake.FireEvent(t.Context(), srv.URL, eventToken, eventAESKey, map[string]any{"EventType": "user_add_org"}, now.Add(-4*time.Minute))
	require.NoError(t, err)
	require.Equal(t, "success", ans.Plain)

	for _, tc := range []struct {
		name   string
		token  string
		key    string
		at     time.Time
		status int
		reason string
	}{
		{name: "wrong token", token: "other-token", key: eventAESKey, at: now, status: 401, reason: "signature does not match"},
		{name: "stale", token: eventToken, key: eventAESKey, at: now.Add(-6 * time.Minute), status: 400, reason: "timestamp outside"},
		{name: "future", token: eventToken, key: eventAESKey, at: now.Add(6 * time.Minute), status: 400, reason: "timestamp outside"},
		{name: "another key: bad padding or garbage", token: eventToken, key: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", at: now, status: 400},
	} {
		ans, err := w.fake.FireEvent(t.Context(), srv.URL, tc.token, tc.key, check, tc.at)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.status, ans.Status, tc.name)
		require.Contains(t, w.log.String(), tc.reason, tc.name)
	}
	// A body that is not the envelope.
	resp, err := http.Post(srv.URL+"?signature=x&timestamp="+strconv.FormatInt(now.UnixMilli(), 10)+"&nonce=n",
		"application/json", strings.NewReader(`{"nope":1}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	bottest.AssertNoLeak(t, []string{clientSecret, eventToken, eventAESKey}, nil, w.log.String())
}
