package kpi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cardflow/bot"
	"cardflow/flows"
)

// periodWords are what /kpi takes as its period: the period, and how far
// back from today.
var periodWords = map[string]struct {
	p    Period
	back int // days for a day, periods otherwise
	zh   string
	en   string
}{
	"today": {Day, 0, "今天", "Today"}, "今天": {Day, 0, "今天", "Today"}, "今日": {Day, 0, "今天", "Today"},
	"yesterday": {Day, 1, "昨天", "Yesterday"}, "昨天": {Day, 1, "昨天", "Yesterday"}, "昨日": {Day, 1, "昨天", "Yesterday"},
	"week": {Week, 0, "本周", "This week"}, "本周": {Week, 0, "本周", "This week"},
	"last_week": {Week, 1, "上周", "Last week"}, "上周": {Week, 1, "上周", "Last week"},
	"month": {Month, 0, "本月", "This month"}, "本月": {Month, 0, "本月", "This month"},
	"last_month": {Month, 1, "上月", "Last month"}, "上月": {Month, 1, "上月", "Last month"},
}

// RegisterCommands adds /kpi (指标) to the chat router: /kpi [name]
// [period], every KPI for today when no name is given; the period is
// today, yesterday, week, last_week, month or last_month (今天, 昨天,
// 本周, 上周, 本月, 上月).
//
// A KPI with roles is shown to their holders (and administrators) only:
// asked for by name, anyone else is told it is not theirs to see; /kpi
// alone lists the KPIs the reader may see.
func RegisterCommands(r *bot.Router, b *Board, f *File, dir Directory) {
	cmd := bot.Command{Names: []string{"/kpi", "指标"},
		UsageZH: "/kpi [指标] [今天|昨天|本周|上周|本月|上月]  查看经营指标",
		UsageEN: "/kpi [name] [today|yesterday|week|last_week|month|last_month]  business figures"}
	cmd.Run = func(ctx context.Context, req bot.Request, args []string) ([]bot.Card, error) {
		en := req.Reader.Locale == bot.LocaleEN
		var name string
		when := periodWords["today"]
		switch len(args) {
		case 0:
		case 1:
			if w, ok := periodWords[strings.ToLower(args[0])]; ok {
				when = w
			} else {
				name = args[0]
			}
		case 2:
			w, ok := periodWords[strings.ToLower(args[1])]
			if !ok {
				return []bot.Card{bot.UsageCard(req.Reader.Locale, cmd)}, nil
			}
			name, when = args[0], w
		default:
			return []bot.Card{bot.UsageCard(req.Reader.Locale, cmd)}, nil
		}
		u, err := dir.User(ctx, req.Reader.UserID)
		if err != nil {
			return nil, fmt.Errorf("kpi: /kpi: reader %s: %w", req.Reader.UserID, err)
		}
		var names []string
		if name != "" {
			names = []string{strings.ToLower(name)}
			if d, ok := f.Lookup(name); ok {
				if !d.SeenBy(u.Roles) {
					return []bot.Card{{Subject: "kpi-denied", Status: bot.StatusInfo,
						Title: pick(en, "没有权限查看："+d.Label, "Not yours to see: "+d.LabelEN),
						Text:  pick(en, "这个指标只对指定的角色开放；如需查看请联系管理员。", "This KPI is for some roles only; ask an administrator.")}}, nil
				}
				names = []string{d.Name} // 指标 销售额: by its label too
			}
		} else {
			for _, d := range f.KPIs {
				if d.SeenBy(u.Roles) {
					names = append(names, d.Name)
				}
			}
			if len(names) == 0 {
				return []bot.Card{{Subject: "kpi-denied", Status: bot.StatusInfo,
					Title: pick(en, "没有你可以查看的指标", "No KPI is yours to see")}}, nil
			}
		}
		zone := req.Reader.Zone
		if zone == nil {
			zone = China
		}
		at := b.now().In(zone)
		switch when.p {
		case Day:
			at = at.AddDate(0, 0, -when.back)
		default:
			for range when.back {
				from, _ := when.p.Window(at, zone)
				at, _ = when.p.Prev(from, zone)
			}
		}
		figs, err := b.Figures(ctx, names, when.p, at, zone)
		if errors.Is(err, ErrUnknownKPI) {
			return []bot.Card{unknownCard(name, f, en)}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("kpi: /kpi %s: %w", clip(name), err)
		}
		title := pick(en, when.zh+"经营指标", when.en+"’s figures")
		if len(figs) == 1 {
			title = pick(en, figs[0].KPI.Label+" · "+when.zh, figs[0].KPI.LabelEN+" · "+when.en)
		}
		return []bot.Card{FiguresCard(figs, title, req.Reader)}, nil
	}
	r.Register(cmd)
}

// Directory reads the org's users, for their roles: *flows.Engine.
type Directory interface {
	User(ctx context.Context, id string) (flows.User, error)
}

// unknownCard answers a KPI name the definitions lack, listing theirs.
func unknownCard(name string, f *File, en bool) bot.Card {
	var lines []string
	for _, d := range f.KPIs {
		lines = append(lines, "- `"+d.Name+"` "+pick(en, d.Label, d.LabelEN))
	}
	return bot.Card{Subject: "kpi-unknown", Status: bot.StatusInfo,
		Title: pick(en, "没有这个指标："+clip(name), "No KPI named "+clip(name)),
		Text:  pick(en, "可以查看的指标：\n", "The KPIs you can look up:\n") + strings.Join(lines, "\n")}
}
