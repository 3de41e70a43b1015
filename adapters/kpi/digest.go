package kpi

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

func (p *parse) digest(n *yaml.Node) {
	d := Digest{Line: n.Line, Zone: China, Period: "yesterday"}
	ok := p.fields(n, "a digest", []string{"name", "cron", "zone", "to", "kpis", "chart", "period"}, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			d.Name = p.scalar(k, v)
		case "cron":
			d.Cron = p.scalar(k, v)
			if strings.Contains(d.Cron, "TZ=") {
				p.errs.add(v.Line, "cron: give the zone as zone, not in the schedule")
			} else if _, err := cron.ParseStandard(d.Cron); err != nil {
				p.errs.add(v.Line, "cron: %q: %v", clip(d.Cron), err)
			}
		case "zone":
			d.Zone = p.zone(v, p.scalar(k, v))
		case "to":
			d.To = p.strings(k, v)
			for _, to := range d.To {
				if err := checkRecipient(to); err != nil {
					p.errs.add(v.Line, "to: %v", err)
				}
			}
		case "kpis":
			d.KPIs = p.strings(k, v)
		case "chart":
			d.Chart = p.scalar(k, v)
		case "period":
			d.Period = p.scalar(k, v)
			if !slices.Contains(digestPeriods, d.Period) {
				p.errs.add(v.Line, "period: %q is not yesterday, today, last_week or last_month", clip(d.Period))
			}
		}
	})
	if !ok {
		return
	}
	if d.Name == "" || d.Cron == "" || len(d.To) == 0 || len(d.KPIs) == 0 {
		p.errs.add(n.Line, "a digest needs name, cron, to and kpis")
	}
	for _, other := range p.f.Digests {
		if other.Name == d.Name {
			p.errs.add(n.Line, "digest %s: named twice (first at line %d)", d.Name, other.Line)
		}
	}
	p.f.Digests = append(p.f.Digests, d)
}

// checkRecipient checks a digest's recipient: a user id, role:<role> or
// chat:<platform>:<chat id>.
func checkRecipient(to string) error {
	kind, rest, found := strings.Cut(to, ":")
	switch {
	case len(to) > 256 || strings.ContainsAny(to, " \t\x00"):
		return fmt.Errorf("%q: not a user id, role:<role> or chat:<platform>:<chat id>", clip(to))
	case !found:
		return nil // a user id
	case kind == "role" && rest != "":
		return nil
	case kind == "chat":
		if platform, chat, ok := strings.Cut(rest, ":"); ok && platform != "" && chat != "" {
			return nil
		}
	}
	return fmt.Errorf("%q: not a user id, role:<role> or chat:<platform>:<chat id>", clip(to))
}

// PeriodAt is what the digest covers when sent at now: the period and an
// instant inside it, for Board.Figures in the digest's zone. yesterday is
// the day before now's; last_week and last_month the week (Monday to
// Sunday) and month before now's.
func (d Digest) PeriodAt(now time.Time) (Period, time.Time) {
	zone := d.Zone
	if zone == nil {
		zone = China
	}
	now = now.In(zone)
	switch d.Period {
	case "today":
		return Day, now
	case "last_week":
		from, _ := Week.Window(now, zone)
		prev, _ := Week.Prev(from, zone)
		return Week, prev
	case "last_month":
		from, _ := Month.Window(now, zone)
		prev, _ := Month.Prev(from, zone)
		return Month, prev
	}
	return Day, now.AddDate(0, 0, -1)
}
