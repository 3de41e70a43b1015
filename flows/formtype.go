package flows

import (
	"encoding/json"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// DateLayout is how date fields are written and normalised.
const DateLayout = "2006-01-02"

// Limits on form values that a field does not set itself.
const (
	// DefaultStringLength bounds a string field without max_length.
	DefaultStringLength = 200
	// DefaultTextLength bounds a text field without max_length.
	DefaultTextLength = 5000
	// MaxMoneyDigits is how many digits an amount may have before its
	// decimal point: 18 fits in a 64-bit count of fen with room to add.
	MaxMoneyDigits = 18
	// MaxNumberDigits is how many significant digits a number field may
	// have: a float64 holds 15 exactly, so no number is silently changed.
	MaxNumberDigits = 15
	// maxNumeral bounds the text of a number before it is parsed at all.
	maxNumeral = 40
)

// plainNumber is how an amount or number may be written as text: digits, an
// optional sign and decimals; no exponent, no thousands separators.
var plainNumber = regexp.MustCompile(`^-?\d+(\.\d+)?$`)

// normalise converts one scalar value to its field type's Go value, or
// returns a problem code and message.
func normalise(fd *Field, v any) (out any, code, msg string) {
	switch fd.Type {
	case FieldString, FieldText:
		return normaliseText(fd, v)
	case FieldNumber:
		return normaliseNumber(fd, v)
	case FieldMoney:
		return normaliseMoney(fd, v)
	case FieldDate:
		return normaliseDate(v)
	case FieldEnum:
		s, ok := v.(string)
		if !ok {
			return nil, CodeType, "expected one of the options, got " + describe(v)
		}
		if !slices.Contains(fd.Options, s) {
			return nil, CodeOption, "must be one of " + strings.Join(fd.Options, ", ")
		}
		return s, "", ""
	case FieldBool:
		return normaliseBool(v)
	case FieldUser:
		s, ok := v.(string)
		if !ok {
			return nil, CodeType, "expected a user id, got " + describe(v)
		}
		return strings.TrimSpace(s), "", ""
	case FieldAttachment:
		return normaliseLink(v)
	}
	return nil, CodeType, "unsupported field type " + string(fd.Type)
}

func normaliseText(fd *Field, v any) (any, string, string) {
	s, ok := v.(string)
	if !ok {
		return nil, CodeType, "expected text, got " + describe(v)
	}
	if fd.Type == FieldString {
		s = strings.TrimSpace(s)
	}
	limit := fd.MaxLength
	if limit <= 0 {
		limit = DefaultStringLength
		if fd.Type == FieldText {
			limit = DefaultTextLength
		}
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return nil, CodeMaxLength, "at most " + strconv.Itoa(limit) + " characters, got " + strconv.Itoa(n)
	}
	if fd.Pattern != nil && !fd.Pattern.MatchString(s) {
		return nil, CodePattern, "must match " + fd.PatternSource
	}
	return s, "", ""
}

func normaliseNumber(fd *Field, v any) (any, string, string) {
	var f float64
	switch x := v.(type) {
	case json.Number:
		return normaliseNumber(fd, string(x))
	case string:
		s := strings.TrimSpace(x)
		if len(s) > maxNumeral || !plainNumber.MatchString(s) {
			return nil, CodeFormat, "expected a number like 12 or 3.5"
		}
		d, _ := decimal.NewFromString(s) // the pattern admits valid numbers only
		f = d.InexactFloat64()
		if !decimal.NewFromFloat(f).Equal(d) {
			return nil, CodeFormat, "cannot be held exactly: use at most " + strconv.Itoa(MaxNumberDigits) + " significant digits"
		}
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case decimal.Decimal:
		f = x.InexactFloat64()
	default:
		return nil, CodeType, "expected a number, got " + describe(v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, CodeType, "expected a finite number"
	}
	if code, msg := checkBounds(fd, decimal.NewFromFloat(f)); code != "" {
		return nil, code, msg
	}
	return f, "", ""
}

// normaliseMoney reads an amount exactly. Text and JSON numbers are parsed
// as decimals; a float64 (from JSON decoded without UseNumber) is accepted
// only when its shortest decimal form has at most MoneyPlaces places, so
// 0.1 stays 0.1 and 5000.505 is rejected rather than rounded.
func normaliseMoney(fd *Field, v any) (any, string, string) {
	var d decimal.Decimal
	switch x := v.(type) {
	case decimal.Decimal:
		d = x
	case json.Number:
		return normaliseMoney(fd, string(x))
	case string:
		s := moneyText(x)
		if len(s) > maxNumeral || !plainNumber.MatchString(s) {
			return nil, CodeFormat, "expected an amount like 5000.50"
		}
		d, _ = decimal.NewFromString(s) // the pattern admits valid decimals only
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, CodeType, "expected a finite amount"
		}
		d = decimal.NewFromFloat(x)
	case int:
		d = decimal.NewFromInt(int64(x))
	case int64:
		d = decimal.NewFromInt(x)
	case int32:
		d = decimal.NewFromInt(int64(x))
	default:
		return nil, CodeType, "expected an amount, got " + describe(v)
	}
	if !d.Equal(d.Truncate(MoneyPlaces)) {
		return nil, CodePrecision, "at most " + strconv.Itoa(MoneyPlaces) + " decimal places"
	}
	if d.Abs().GreaterThanOrEqual(maxMoney) {
		return nil, CodeMax, "at most " + strconv.Itoa(MaxMoneyDigits) + " digits before the decimal point"
	}
	if code, msg := checkBounds(fd, d); code != "" {
		return nil, code, msg
	}
	// A fixed exponent makes equal amounts equal values (5000.5 == 5000.50).
	return d.Round(MoneyPlaces), "", ""
}

// groupedAmount is an amount written as money is shown, thousands grouped
// by commas: 60,000.50.
var groupedAmount = regexp.MustCompile(`^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$`)

// moneyText takes an amount as people type what a card shows them
// (¥60,000.50): without the yuan sign, and without commas that group its
// thousands correctly; anything else is left for the pattern to refuse.
func moneyText(s string) string {
	s = strings.TrimSpace(s)
	for _, sign := range []string{"¥", "￥"} {
		s = strings.TrimSpace(strings.TrimPrefix(s, sign))
	}
	if groupedAmount.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	return s
}

// maxMoney is the first amount with more than MaxMoneyDigits whole digits.
var maxMoney = decimal.New(1, MaxMoneyDigits)

func checkBounds(fd *Field, d decimal.Decimal) (string, string) {
	if fd.Min != nil && d.LessThan(*fd.Min) {
		return CodeMin, "must be at least " + fd.Min.String()
	}
	if fd.Max != nil && d.GreaterThan(*fd.Max) {
		return CodeMax, "must be at most " + fd.Max.String()
	}
	return "", ""
}

func normaliseDate(v any) (any, string, string) {
	switch x := v.(type) {
	case time.Time:
		return x.Format(DateLayout), "", ""
	case string:
		s := strings.TrimSpace(x)
		if _, err := time.Parse(DateLayout, s); err == nil {
			return s, "", ""
		}
		// As many write a date: 2025/1/31.
		if t, err := time.Parse("2006/1/2", s); err == nil {
			return t.Format(DateLayout), "", ""
		}
		return nil, CodeFormat, "expected a date like 2025-01-31"
	}
	return nil, CodeType, "expected a date like 2025-01-31, got " + describe(v)
}

func normaliseBool(v any) (any, string, string) {
	switch x := v.(type) {
	case bool:
		return x, "", ""
	case string:
		// Card toggles of some platforms submit their state as text.
		switch strings.TrimSpace(x) {
		case "true":
			return true, "", ""
		case "false":
			return false, "", ""
		}
	}
	return nil, CodeType, "expected true or false, got " + describe(v)
}

func normaliseLink(v any) (any, string, string) {
	s, ok := v.(string)
	if !ok {
		return nil, CodeType, "expected a link, got " + describe(v)
	}
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, CodeFormat, "expected an http or https link"
	}
	return s, "", ""
}
