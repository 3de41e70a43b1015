package orders

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"cardflow/bot"
	"cardflow/flows"
)

// Instances reads the flow instances an order card lists, and their flows'
// names: flows.Store.
type Instances interface {
	Instance(ctx context.Context, id string) (flows.Instance, error)
	Definition(ctx context.Context, flowID string, version int) (flows.Definition, error)
}

// maxCardInstances bounds the instances one order card lists, the latest.
const maxCardInstances = 5

// ValueOrder is the value of an order card's start button that names the
// order (platform, shop, number), so that the instance it starts is linked
// to it (see CardStarts). It starts with "_", so it is not a form field.
const ValueOrder = "_order"

// orderValue writes an order's key as ValueOrder holds it.
func orderValue(o Order) string {
	return url.Values{"p": {o.Platform}, "s": {o.Shop}, "n": {o.No}}.Encode()
}

// CardStarts returns what bot.ActionsDeps.Started calls: an instance a
// click on an order card's start button started is linked to the card's
// order, so the order's card lists it. A click from any other card, or
// naming an order that is not stored, links nothing.
func CardStarts(store Store, now func() time.Time) func(ctx context.Context, c bot.Click, res flows.Result) error {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, c bot.Click, res flows.Result) error {
		v, ok := c.Values[ValueOrder]
		if !ok || len(v) > 2048 {
			return nil
		}
		q, err := url.ParseQuery(v)
		if err != nil {
			return nil
		}
		l := InstanceLink{Platform: q.Get("p"), Shop: q.Get("s"), No: q.Get("n"), InstanceID: res.InstanceID, StartedAt: now()}
		if CheckLink(l) != nil {
			return nil
		}
		if p, err := bot.ParsePayload(c.Payload); err == nil {
			l.FlowID = p.FlowID
		}
		// Only an order that is stored: the values come back from the
		// platform with the click, and a link to nothing is noise.
		found, err := store.OrdersByNo(ctx, l.No)
		if err != nil {
			return fmt.Errorf("orders: link instance %s: %w", l.InstanceID, err)
		}
		for _, o := range found {
			if o.Platform == l.Platform && o.Shop == l.Shop {
				if err := store.LinkOrderInstance(ctx, l); err != nil {
					return fmt.Errorf("orders: link instance %s: %w", l.InstanceID, err)
				}
				return nil
			}
		}
		return nil
	}
}

// addInstances lists on an order's card the latest flow instances started
// for it: flow, state and start time, the flow linked to the console when
// there is one. An instance since removed (pruned) is left out.
func addInstances(ctx context.Context, c *bot.Card, o Order, store Store, opts CommandOptions, r bot.Reader) error {
	if opts.Instances == nil {
		return nil
	}
	links, err := store.OrderInstances(ctx, o.Platform, o.Shop, o.No, maxCardInstances)
	if err != nil {
		return fmt.Errorf("instances of order %s: %w", clip(o.No), err)
	}
	zone := r.Zone
	if zone == nil {
		zone = china
	}
	console := strings.TrimRight(opts.ConsoleURL, "/")
	var lines []string
	for _, l := range links {
		inst, err := opts.Instances.Instance(ctx, l.InstanceID)
		if errors.Is(err, flows.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("instance %s of order %s: %w", l.InstanceID, clip(o.No), err)
		}
		name, err := flowName(ctx, opts.Instances, inst)
		if err != nil {
			return fmt.Errorf("instance %s of order %s: %w", l.InstanceID, clip(o.No), err)
		}
		name = bot.EscapeMarkdown(name)
		if console != "" {
			name = "[" + name + "](" + console + "/console/instances/" + url.PathEscape(inst.ID) + ")"
		}
		lines = append(lines, "- "+name+" · "+bot.InstanceStatusText(r.Locale, inst.Status)+" · "+
			inst.CreatedAt.In(zone).Format("2006-01-02 15:04"))
	}
	if len(lines) == 0 {
		return nil
	}
	head := "**相关流程**"
	if r.Locale == bot.LocaleEN {
		head = "**Flows**"
	}
	c.Text = strings.Join(append([]string{head}, lines...), "\n")
	return nil
}

// flowName is the name of inst's flow, its id when the definition is gone.
func flowName(ctx context.Context, in Instances, inst flows.Instance) (string, error) {
	d, err := in.Definition(ctx, inst.FlowID, inst.FlowVersion)
	switch {
	case errors.Is(err, flows.ErrNotFound):
		return inst.FlowID, nil
	case err != nil:
		return "", err
	case d.Name == "":
		return inst.FlowID, nil
	}
	return d.Name, nil
}
