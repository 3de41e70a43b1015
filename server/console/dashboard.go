package console

import (
	"net/http"
	"slices"
	"time"

	"cardflow/bot"
	"cardflow/flows"
)

// countCap bounds how many rows a dashboard figure reads; a figure that
// reaches it says so ("counting the first N only").
const countCap = 10000

// statuses are the instance states, in the order the dashboard lists them.
var statuses = []flows.InstanceStatus{flows.InstanceRunning, flows.InstanceApproved, flows.InstanceRejected,
	flows.InstanceCompleted, flows.InstanceWithdrawn, flows.InstanceCancelled}

type stateCount struct {
	Status flows.InstanceStatus
	Count  int64
	Capped bool
}

type topicDepth struct {
	Topic string
	Depth int64
}

type dashboardData struct {
	States        []stateCount
	OverdueCount  int64
	Overdue       []taskRow // the first overdueShown, the longest overdue first
	OverdueCapped bool
	Backlog       int64
	Lag           string
	Depths        []topicDepth
	Sends         []bot.SendCount
	HasSends      bool
	Cap           int
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := dashboardData{Cap: countCap, HasSends: c.d.Sends != nil}
	states, err := c.countStates(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.States = states
	now := c.now()
	var overdue []flows.Task
	if d.OverdueCount, overdue, d.OverdueCapped, err = c.overdue(r, now); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Overdue, err = c.taskRows(ctx, r, overdue); err != nil {
		c.fail(w, r, err)
		return
	}
	n, oldest, err := c.d.Store.OutboxBacklog(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Backlog = n
	if n > 0 && !oldest.IsZero() {
		d.Lag = flows.FormatDuration(now.Sub(oldest).Round(time.Second))
	}
	if c.d.Queue != nil {
		for _, t := range c.d.Topics {
			depth, err := c.d.Queue.Depth(ctx, t)
			if err != nil {
				c.fail(w, r, err)
				return
			}
			d.Depths = append(d.Depths, topicDepth{Topic: t, Depth: depth})
		}
	}
	if c.d.Sends != nil {
		d.Sends = c.d.Sends()
	}
	c.render(w, r, http.StatusOK, "dashboard", "dashboard", d)
}

// overdueShown is how many overdue tasks the dashboard lists.
const overdueShown = 5

// overdue counts the open tasks past their due time and returns the first
// overdueShown of them: at once when the store can, else by listing up to
// countCap open tasks (capped then says the count may be short).
func (c *Console) overdue(r *http.Request, now time.Time) (n int64, first []flows.Task, capped bool, err error) {
	if or, ok := c.d.Store.(OverdueReader); ok {
		n, first, err = or.OverdueTasks(r.Context(), now, overdueShown)
		return n, first, false, err
	}
	open, err := c.d.Store.Tasks(r.Context(), flows.TaskFilter{Status: flows.TaskOpen, Limit: countCap})
	if err != nil {
		return 0, nil, false, err
	}
	var all []flows.Task
	for _, t := range open {
		if !t.DueAt.IsZero() && t.DueAt.Before(now) {
			all = append(all, t)
		}
	}
	slices.SortStableFunc(all, func(a, b flows.Task) int { return a.DueAt.Compare(b.DueAt) })
	return int64(len(all)), all[:min(len(all), overdueShown)], len(open) == countCap, nil
}

// countStates counts the instances in each status: at once when the store
// can, else by listing up to countCap of each.
func (c *Console) countStates(r *http.Request) ([]stateCount, error) {
	var out []stateCount
	if counter, ok := c.d.Store.(InstanceCounter); ok {
		counts, err := counter.CountInstances(r.Context())
		if err != nil {
			return nil, err
		}
		for _, s := range statuses {
			out = append(out, stateCount{Status: s, Count: counts[s]})
		}
		return out, nil
	}
	for _, s := range statuses {
		rows, err := c.d.Store.Instances(r.Context(), flows.InstanceFilter{Status: s, Limit: countCap})
		if err != nil {
			return nil, err
		}
		out = append(out, stateCount{Status: s, Count: int64(len(rows)), Capped: len(rows) == countCap})
	}
	return out, nil
}
