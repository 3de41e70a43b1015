package bot

import (
	"errors"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"cardflow/queue"
)

// Send outcomes counted by Sends.
const (
	SendOK          = "ok"
	SendRateLimited = "rate_limited"
	SendRetryable   = "retryable"
	SendPermanent   = "permanent"
)

// Sends counts the calls that send or update a card on a chat platform,
// by platform and outcome, as the Prometheus counter
// cardflow_chat_sends_total{platform,outcome} and in process for the web
// console (Totals). The counts are this process's since it started: with
// several instances, add up their /metrics.
type Sends struct {
	vec *prometheus.CounterVec
	mu  sync.Mutex
	m   map[string]*SendCount
}

// SendCount is what one platform's sends came to.
type SendCount struct {
	Platform string
	// OK were sent or updated; Failed were not: RateLimited, Retryable
	// and Permanent say why (a retryable or rate-limited one is tried
	// again by the queue).
	OK, Failed                        int64
	RateLimited, Retryable, Permanent int64
}

// NewSends returns a counter registered on reg (nil: not exported).
func NewSends(reg prometheus.Registerer) *Sends {
	s := &Sends{m: map[string]*SendCount{}, vec: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_chat_sends_total",
		Help: "Cards sent or updated on chat platforms, by platform and outcome (ok, rate_limited, retryable, permanent).",
	}, []string{"platform", "outcome"})}
	if reg != nil {
		reg.MustRegister(s.vec)
	}
	return s
}

// observe counts one call to platform that ended with err.
func (s *Sends) observe(platform string, err error) {
	if s == nil {
		return
	}
	outcome := SendOK
	var rl *queue.RateLimitError
	switch {
	case err == nil:
	case queue.IsPermanent(err):
		outcome = SendPermanent
	case errors.As(err, &rl):
		outcome = SendRateLimited
	default:
		outcome = SendRetryable
	}
	s.vec.WithLabelValues(platform, outcome).Inc()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[platform]
	if c == nil {
		c = &SendCount{Platform: platform}
		s.m[platform] = c
	}
	switch outcome {
	case SendOK:
		c.OK++
	case SendPermanent:
		c.Failed++
		c.Permanent++
	case SendRateLimited:
		c.Failed++
		c.RateLimited++
	default:
		c.Failed++
		c.Retryable++
	}
}

// Totals returns the counts per platform, ordered by platform.
func (s *Sends) Totals() []SendCount {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SendCount, 0, len(s.m))
	for _, c := range s.m {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b SendCount) int {
		switch {
		case a.Platform < b.Platform:
			return -1
		case a.Platform > b.Platform:
			return 1
		}
		return 0
	})
	return out
}
