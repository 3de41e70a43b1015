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
	var page InstancePage
	next, err := e.scan(ctx, q.Filter, func(inst Instance) (bool, error) {
		s, ok, err := e.summarize(ctx, q.Viewer, inst)
		if ok {
			page.Instances = append(page.Instances, s)
		}
		return ok, err
	})
	if err != nil {
		return InstancePage{}, fmt.Errorf("flows: list instances: %w", err)
	}
	page.Next = next
	return page, nil
}

// scan reads the instances f selects, newest first, and hands each to
// keep until keep has taken a page of them (f.Limit, 0 meaning
// DefaultPageSize) or maxListScan were read. It returns the cursor to go
// on with, zero at the end of the list.
func (e *Engine) scan(ctx context.Context, f InstanceFilter, keep func(Instance) (bool, error)) (Cursor, error) {
	size := cmp.Or(f.Limit, DefaultPageSize)
	// The first read asks for one more than a page, so that a viewer who
	// sees every row learns at once whether the list goes on.
	f.Limit = size + 1
	kept := 0
	for scanned := 0; scanned < maxListScan; {
		rows, err := e.store.Instances(ctx, f)
		if err != nil {
			return Cursor{}, err
		}
		for i, inst := range rows {
			scanned++
			f.After = Cursor{CreatedAt: inst.CreatedAt, ID: inst.ID}
			ok, err := keep(inst)
			if err != nil {
				return Cursor{}, err
			}
			if ok {
				kept++
			}
			if kept == size {
				if i < len(rows)-1 || len(rows) == f.Limit {
					return f.After, nil
				}
				return Cursor{}, nil
			}
		}
		if len(rows) < f.Limit {
			return Cursor{}, nil
		}
		f.Limit = min(maxListScan-scanned, max(size, 100))
	}
	return f.After, nil
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
