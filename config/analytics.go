package config

import "time"

// AnalyticsConfig is flow analytics (审批效率) as /metrics exports it.
type AnalyticsConfig struct {
	// Window is the rolling period the cardflow_flow_* metrics count: the
	// instances started and the tasks decided in the last Window.
	Window time.Duration `yaml:"window"`
}

// maxAnalyticsWindow bounds the window: a longer one reads more tasks at
// every refresh than a scrape should cost.
const maxAnalyticsWindow = 366 * 24 * time.Hour

func (a AnalyticsConfig) validate(p *problems) {
	if a.Window <= 0 || a.Window > maxAnalyticsWindow {
		p.add("analytics.window", "must be positive and at most %s, got %s", maxAnalyticsWindow, a.Window)
	}
}
