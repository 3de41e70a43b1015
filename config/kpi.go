package config

import (
	"fmt"
	"strings"
	"time"
)

// KPIConfig is the KPI adapter: the figures managers read, the metrics
// other systems push, threshold alerts and scheduled digests.
type KPIConfig struct {
	// File holds the KPI definitions, threshold alerts and digests
	// (configs/kpis.example.yaml); empty: no KPIs, /kpi answers that none
	// are defined.
	File string `yaml:"file"`
	// Sources are the systems that push metrics (ad spend, visitors) to
	// /webhooks/kpi/<name>, each "name=generic:secret" signed like orders;
	// environment only.
	Sources []Secret `yaml:"sources"`
	// ChartSecret signs the chart images' URLs, at least 16 characters and
	// the same on every instance; environment only. Empty: one made up at
	// start-up, which only a single instance may do (the charts of one
	// would not open on another).
	ChartSecret Secret `yaml:"chart_secret"`
	// AlertInterval is how often threshold alerts are checked.
	AlertInterval time.Duration `yaml:"alert_interval"`
}

func (k KPIConfig) validate(p *problems) {
	if k.AlertInterval < time.Second {
		p.add("kpi.alert_interval", "must be at least 1s, got %s", k.AlertInterval)
	}
	if !k.ChartSecret.IsZero() && len(k.ChartSecret.Reveal()) < 16 {
		p.add("kpi.chart_secret", "needs at least 16 characters")
	}
	for i, s := range k.Sources {
		if !orderSource.MatchString(s.Reveal()) || !strings.Contains(s.Reveal(), "=generic:") {
			p.addFrom(fmt.Sprintf("kpi.sources[%d]", i), "kpi.sources",
				"expected name=generic:secret with a secret of at least 16 characters")
		}
	}
}
