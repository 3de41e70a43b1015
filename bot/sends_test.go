package bot

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"cardflow/queue"
)

func TestSendsCountsOutcomes(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s := NewSends(reg)
	tests := []struct {
		name     string
		platform string
		err      error
		outcome  string
	}{
		{name: "sent", platform: "wecom", outcome: SendOK},
		{name: "sent again", platform: "wecom", outcome: SendOK},
		{name: "permanent", platform: "wecom", err: queue.Permanent(errors.New("user not found")), outcome: SendPermanent},
		{name: "rate limited", platform: "feishu", err: queue.RateLimited(errors.New("99991400"), 0), outcome: SendRateLimited},
		{name: "transport", platform: "feishu", err: errors.New("connection reset"), outcome: SendRetryable},
	}
	for _, tt := range tests {
		s.observe(tt.platform, tt.err)
	}
	for _, tt := range tests {
		require.Positive(t, testutil.ToFloat64(s.vec.WithLabelValues(tt.platform, tt.outcome)), tt.name)
	}
	require.Equal(t, []SendCount{
		{Platform: "feishu", Failed: 2, RateLimited: 1, Retryable: 1},
		{Platform: "wecom", OK: 2, Failed: 1, Permanent: 1},
	}, s.Totals())
	n, err := testutil.GatherAndCount(reg, "cardflow_chat_sends_total")
	require.NoError(t, err)
	require.Equal(t, 4, n, "one series per platform and outcome seen")
	var none *Sends
	none.observe("sim", nil) // a pipeline without a counter counts nothing
	require.Nil(t, none.Totals())
}
