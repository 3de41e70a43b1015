package flows

import (
	"context"
	"errors"
	"fmt"
)

// CodeUnknownUser is the FieldProblem code of a user field naming nobody in
// the org directory.
const CodeUnknownUser = "unknown_user"

// checkUsers checks that every user field of values (top-level and in
// table rows) names a user of the org directory, and refuses the reserved
// SystemActor: a form that names a ghost would later copy or assign to
// nobody. The error is a *FormError listing every such field.
func (e *Engine) checkUsers(ctx context.Context, fields []*Field, values map[string]any) error {
	var fp formProblems
	if err := e.collectUsers(ctx, fields, values, "", &fp); err != nil {
		return err
	}
	return fp.err(fields)
}

func (r *run) checkUsers(fields []*Field, values map[string]any) error {
	return r.e.checkUsers(r.ctx, fields, values)
}

func (e *Engine) collectUsers(ctx context.Context, fields []*Field, values map[string]any, prefix string, fp *formProblems) error {
	for _, fd := range fields {
		v, ok := values[fd.Key]
		if !ok {
			continue
		}
		path := prefix + fd.Key
		switch fd.Type {
		case FieldUser:
			id, _ := v.(string)
			err := e.knownActor(ctx, id)
			switch {
			case errors.Is(err, ErrUnknownUser):
				fp.add(path, CodeUnknownUser, "%s is not a user of the org directory", id)
			case err != nil:
				return err
			}
		case FieldTable:
			rows, _ := v.([]map[string]any)
			for i, row := range rows {
				if err := e.collectUsers(ctx, fd.Columns, row, fmt.Sprintf("%s[%d].", path, i), fp); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
