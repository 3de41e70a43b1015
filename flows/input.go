package flows

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Limits on the free text a request may carry. Everything a request says
// is copied into the audit trail and into notifications, so a megabyte of
// comment would become megabytes of outbox rows, queue messages and cards.
const (
	// MaxCommentLength bounds a comment, a reason and a resubmission note.
	MaxCommentLength = 2000
	// MaxIDLength bounds ids: users, tasks, steps, flows.
	MaxIDLength = 200
)

// ErrInvalidInput is what an *InputError matches with errors.Is.
var ErrInvalidInput = errors.New("invalid input")

// InputError says which field of a request is unusable and why: text that
// is not valid UTF-8 or holds a NUL character (neither can be stored by
// every database), or text longer than its limit.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// CheckText checks one text of a request: valid UTF-8, no NUL, at most max
// characters (0: no limit beyond the encoding checks).
func CheckText(field, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return &InputError{Field: field, Reason: "is not valid UTF-8 text"}
	case strings.IndexByte(s, 0) >= 0:
		return &InputError{Field: field, Reason: "contains a NUL character"}
	case max > 0 && utf8.RuneCountInString(s) > max:
		return &InputError{Field: field, Reason: fmt.Sprintf("is longer than %d characters", max)}
	}
	return nil
}

// checkRequest checks every text a request struct carries (its string and
// []string fields, and the strings and keys inside its maps) before the
// engine reads or writes anything. Comments, reasons and titles have their
// own limits; every other string is an id.
func checkRequest(req any) error {
	v := reflect.ValueOf(req)
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		name := snake(t.Field(i).Name)
		if err := checkValueText(name, v.Field(i), limitOf(name)); err != nil {
			return err
		}
	}
	return nil
}

func limitOf(field string) int {
	switch field {
	case "comment", "text":
		return MaxCommentLength
	case "title":
		return MaxTitleLength
	case "form", "result", "edits", "context":
		return 0 // form values are checked by their field types
	}
	return MaxIDLength
}

func checkValueText(path string, v reflect.Value, max int) error {
	switch v.Kind() {
	case reflect.String:
		return CheckText(path, v.String(), max)
	case reflect.Slice:
		for i := range v.Len() {
			if err := checkValueText(fmt.Sprintf("%s[%d]", path, i), v.Index(i), max); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				if err := CheckText(path+" key", k.String(), MaxIDLength); err != nil {
					return err
				}
			}
			if err := checkValueText(path+"."+fmt.Sprint(k.Interface()), iter.Value(), max); err != nil {
				return err
			}
		}
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			return checkValueText(path, v.Elem(), max)
		}
	}
	return nil
}

// snake turns a Go field name into the request's JSON-style name:
// TaskID → task_id, Comment → comment.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 && !(name[i-1] >= 'A' && name[i-1] <= 'Z') {
			b.WriteByte('_')
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
