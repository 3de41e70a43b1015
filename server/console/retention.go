package console

import (
	"net/http"
	"time"
)

// Retention is one kind of stored row and how long cardflow keeps it, for
// the retention page; the app describes its configuration with these.
type Retention struct {
	// Table names what is pruned; empty for what is never pruned.
	Table string
	// What is kept, in zh-CN and in English.
	What, WhatEn string
	// Key is the configuration key that sets For; empty when none does.
	Key string
	// For is how long it is kept; 0 means for ever.
	For time.Duration
}

type retentionRow struct {
	Retention
	Text    string // what is kept, in the reader's language
	ForText string
}

func (c *Console) retention(w http.ResponseWriter, r *http.Request) {
	l := c.locale(r)
	rows := make([]retentionRow, 0, len(c.d.Retentions))
	for _, rt := range c.d.Retentions {
		row := retentionRow{Retention: rt, Text: rt.What, ForText: tr(l, "ret.forever")}
		if l == localeEN && rt.WhatEn != "" {
			row.Text = rt.WhatEn
		}
		if rt.For > 0 {
			row.ForText = humanDuration(rt.For, l)
		}
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "retention", "retention", rows)
}
