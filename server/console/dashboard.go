package console

import (
	"net/http"
	"time"

	"cardflow/bot"
	"cardflow/flows"
)

// statuses are the instance states, in the order the dashboard lists them.
var statuses = []flows.InstanceStatus{flows.InstanceRunning, flows.InstanceApproved, flows.InstanceRejected,
	flows.InstanceCompleted, flows.InstanceWithdrawn, flows.InstanceCancelled}

type stateCount struct {
	Status flows.InstanceStatus
	Count  int64
}

type topicDepth struct {
	Topic string
	Depth int64
}

type dashboardData struct {
	States       []stateCount
	OverdueCount int64
	Overdue      []taskRow // the first overdueShown, the longest overdue first
	Backlog      int64
	Lag          string
	Depths       []topicDepth
	Sends        []bot.SendCount
	HasSends     bool
}

// home is the console's first page: the dashboard for an administrator,
// their own tasks for anyone else.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	if !sessionOf(r.Context()).Admin {
		c.tasks(w, r)
		return
	}
	c.dashboard(w, r)
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := dashboardData{HasSends: c.d.Sends != nil}
	states, err := c.countStates(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.States = states
	now := c.now()
	var overdue []flows.Task
	if d.OverdueCount, overdue, err = c.d.Store.OverdueTasks(ctx, now, overdueShown); err != nil {
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

// countStates counts the instances in each status.
func (c *Console) countStates(r *http.Request) ([]stateCount, error) {
	counts, err := c.d.Store.CountInstances(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]stateCount, 0, len(statuses))
	for _, s := range statuses {
		out = append(out, stateCount{Status: s, Count: counts[s]})
	}
	return out, nil
}
