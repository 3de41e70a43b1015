package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// timeArg encodes t as microseconds since the epoch, the precision
// PostgreSQL keeps, so both stores round-trip the same instants; the zero
// time is NULL because its Unix value is outside every useful range.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeColumn is timeArg as the column reads back into a sql.NullInt64.
func timeColumn(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// storedTime returns t as it reads back after timeArg.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// jsonArg stores JSON as TEXT, and an empty message as NULL so it reads
// back empty.
func jsonArg(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// microTime scans a column written by timeArg into a UTC time.
type microTime struct{ dst *time.Time }

// Scan implements sql.Scanner.
func (m microTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*m.dst = time.Time{}
	case int64:
		*m.dst = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds %T, want INTEGER microseconds", src)
	}
	return nil
}

// rawJSON scans a TEXT column written by jsonArg; NULL reads as empty.
type rawJSON struct{ dst *json.RawMessage }

// Scan implements sql.Scanner.
func (r rawJSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*r.dst = nil
	case string:
		*r.dst = json.RawMessage(v)
	case []byte:
		*r.dst = append(json.RawMessage(nil), v...)
	default:
		return fmt.Errorf("JSON column holds %T, want TEXT", src)
	}
	return nil
}

// limitOr100 applies the filters' rule that a zero limit means 100.
func limitOr100(limit int) int {
	if limit <= 0 {
		return 100
	}
	return limit
}
