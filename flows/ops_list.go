package flows

import (
	"cmp"
	"context"
	"fmt"
)

// DefaultPageSize is the number of rows of a list page when the query
// names none.
const DefaultPageSize = 50

// maxListScan bounds how many instances one page reads looking for the
// ones its viewer may see, so a viewer who sees few of many instances
// gets short pages (and a cursor to go on) rather than slow ones.
const maxListScan = 1000

// InstanceQuery selects a page of the instances one user may see.
type InstanceQuery struct {
	// Viewer is who lists: instances they may not view (see Instance) are
	// left out, and each form is shown as their step may see it.
	Viewer string
	// Filter selects and pages the instances; its Limit is the page size
	// (0 means DefaultPageSize) and its After the previous page's Next.
	Filter InstanceFilter
}

// InstancePage is one page of a list of instances, newest first.
type InstancePage struct {
	Instances []InstanceSummary
	// Next goes on with the list (as the next query's Filter.After); zero
	// at its end. A page may hold fewer rows than asked for, even none,
	// and still have a Next.
	Next Cursor
}

// InstanceSummary is a listed instance as its viewer may see it.
type InstanceSummary struct {
	// Instance is the stored instance with Form and State cleared.
	Instance Instance
	FlowName string
	// ViewedAs is the step whose field access applied; StartForm for the
	// applicant and administrators.
	ViewedAs string
	Form     []FieldView
}

// ListInstances returns a page of the instances q's viewer may see,
// newest first.
func (e *Engine) ListInstances(ctx context.Context, q InstanceQuery) (InstancePage, error) {
	if err := e.knownActor(ctx, q.Viewer); err != nil {
		return InstancePage{}, fmt.Errorf("flows: list instances: %w", err)
	}
	size := cmp.Or(q.Filter.Limit, DefaultPageSize)
	f := q.Filter
	// The first read asks for one more than a page, so that a viewer who
	// sees every row learns at once whether the list goes on.
	f.Limit = size + 1
	var page InstancePage
	for scanned := 0; scanned < maxListScan; {
		rows, err := e.store.Instances(ctx, f)
		if err != nil {
			return InstancePage{}, fmt.Errorf("flows: list instances: %w", err)
		}
		for i, inst := range rows {
			scanned++
			f.After = Cursor{CreatedAt: inst.CreatedAt, ID: inst.ID}
			s, ok, err := e.summarize(ctx, q.Viewer, inst)
			if err != nil {
				return InstancePage{}, fmt.Errorf("flows: list instances: %w", err)
			}
			if ok {
				page.Instances = append(page.Instances, s)
			}
			if len(page.Instances) == size {
				if i < len(rows)-1 || len(rows) == f.Limit {
					page.Next = f.After
				}
				return page, nil
			}
		}
		if len(rows) < f.Limit {
			return page, nil
		}
		f.Limit = min(maxListScan-scanned, max(size, 100))
	}
	page.Next = f.After
	return page, nil
}

// summarize returns inst as viewer may see it, and whether they may.
func (e *Engine) summarize(ctx context.Context, viewer string, inst Instance) (InstanceSummary, bool, error) {
	r, err := e.runOf(unseen(ctx), inst, viewer)
	if err != nil {
		return InstanceSummary{}, false, err
	}
	var tasks []Task
	if viewer != inst.Applicant {
		// Who may see it is decided by their tasks; an administrator needs none.
		if admin, err := r.isAdmin(viewer); err != nil {
			return InstanceSummary{}, false, err
		} else if !admin {
			if tasks, err = r.tasks(); err != nil {
				return InstanceSummary{}, false, err
			}
		}
	}
	step, ok, err := r.viewAs(viewer, tasks)
	if err != nil || !ok {
		return InstanceSummary{}, false, err
	}
	form, err := r.formValues()
	if err != nil {
		return InstanceSummary{}, false, fmt.Errorf("instance %s: %w", inst.ID, err)
	}
	fields, err := r.f.FormView(step, form)
	if err != nil {
		return InstanceSummary{}, false, fmt.Errorf("instance %s: %w", inst.ID, err)
	}
	s := InstanceSummary{Instance: inst, FlowName: r.f.Name, ViewedAs: step, Form: fields}
	s.Instance.Form, s.Instance.State = nil, nil
	return s, true, nil
}
