package flows

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// The Go types form values have inside conditions.
var (
	stringType    = reflect.TypeFor[string]()
	numberType    = reflect.TypeFor[float64]()
	moneyType     = reflect.TypeFor[decimal.Decimal]()
	dateType      = reflect.TypeFor[time.Time]()
	boolType      = reflect.TypeFor[bool]()
	applicantType = reflect.TypeFor[Applicant]()
	contextType   = reflect.TypeFor[map[string]any]()
)

// buildExprEnv generates struct types whose fields are the form's (and each
// result form's) keys, so that the expression checker knows every field
// and its type: a misspelt field or a string compared with a number is a
// parse error, not a surprise at run time.
func (f *Flow) buildExprEnv() *exprEnv {
	e := &exprEnv{rows: map[string]reflect.Type{}, result: map[string]reflect.Type{}}
	e.form = e.structOf(f.Form)
	var results []reflect.StructField
	f.walk(func(s *Step) {
		if len(s.ResultForm) == 0 || s.ID == "" {
			return
		}
		t := e.structOf(s.ResultForm)
		e.result[s.ID] = t
		e.resultSteps = append(e.resultSteps, s)
		results = append(results, field(len(results), s.ID, t))
	})
	e.results = reflect.StructOf(results)
	e.root = reflect.StructOf([]reflect.StructField{
		field(0, "form", e.form),
		field(1, "applicant", applicantType),
		field(2, "context", contextType),
		field(3, "results", e.results),
	})
	return e
}

func field(i int, key string, t reflect.Type) reflect.StructField {
	return reflect.StructField{Name: "F" + strconv.Itoa(i), Type: t, Tag: reflect.StructTag(`expr:"` + key + `"`)}
}

func (e *exprEnv) structOf(fields []*Field) reflect.Type {
	sf := make([]reflect.StructField, len(fields))
	for i, fd := range fields {
		sf[i] = field(i, fd.Key, e.goType(fd))
	}
	return reflect.StructOf(sf)
}

func (e *exprEnv) goType(fd *Field) reflect.Type {
	switch fd.Type {
	case FieldNumber:
		return numberType
	case FieldMoney:
		return moneyType
	case FieldDate:
		return dateType
	case FieldBool:
		return boolType
	case FieldTable:
		row := e.structOf(fd.Columns)
		e.rows[fd.Key] = row
		return reflect.SliceOf(row)
	}
	return stringType
}

// walk calls fn for every step, depth first in file order.
func (f *Flow) walk(fn func(*Step)) {
	var visit func([]*Step)
	visit = func(list []*Step) {
		for _, s := range list {
			fn(s)
			for _, b := range s.Parallel {
				visit(b.Steps)
			}
		}
	}
	visit(f.Steps)
}

// envValue builds the value of the generated environment type.
func (f *Flow) envValue(env Env) (any, error) {
	e := f.exprEnv
	root := reflect.New(e.root).Elem()
	if err := fill(root.Field(0), f.Form, env.Form, "form."); err != nil {
		return nil, err
	}
	root.Field(1).Set(reflect.ValueOf(env.Applicant))
	ctx := env.Context
	if ctx == nil {
		ctx = map[string]any{}
	}
	root.Field(2).Set(reflect.ValueOf(ctx))
	for i, s := range e.resultSteps {
		if err := fill(root.Field(3).Field(i), s.ResultForm, env.Results[s.ID], "results."+s.ID+"."); err != nil {
			return nil, err
		}
	}
	return root.Interface(), nil
}

// fill sets dst's fields from values, normalising each; empty values keep
// their zero value.
func fill(dst reflect.Value, fields []*Field, values map[string]any, path string) error {
	for i, fd := range fields {
		v, ok := values[fd.Key]
		if !ok || v == nil || isBlank(fd, v) {
			continue
		}
		x, err := exprValue(fd, v, dst.Field(i).Type(), path+fd.Key)
		if err != nil {
			return err
		}
		dst.Field(i).Set(x)
	}
	return nil
}

func exprValue(fd *Field, v any, t reflect.Type, path string) (reflect.Value, error) {
	if fd.Type == FieldTable {
		var fp formProblems
		nv, ok := checkTable(fd, v, path, &fp)
		if !ok {
			return reflect.Value{}, fp.err([]*Field{fd})
		}
		rows := nv.([]map[string]any)
		out := reflect.MakeSlice(t, len(rows), len(rows))
		for i, row := range rows {
			if err := fill(out.Index(i), fd.Columns, row, fmt.Sprintf("%s[%d].", path, i)); err != nil {
				return reflect.Value{}, err
			}
		}
		return out, nil
	}
	nv, code, msg := normalise(fd, v)
	if code != "" {
		return reflect.Value{}, fmt.Errorf("%s: %s", path, msg)
	}
	if fd.Type == FieldDate {
		d, _ := time.Parse(DateLayout, nv.(string)) // normalise checked the layout
		return reflect.ValueOf(d), nil
	}
	return reflect.ValueOf(nv), nil
}
