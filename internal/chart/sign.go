package chart

import (
	"bytes"
	"compress/flate"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Limits of a token, checked before any work: a token longer than
// MaxTokenLen is refused before its MAC is computed, and one whose JSON
// inflates past MaxSpecJSON is refused (a deflate bomb stops there). A
// month of four series with short labels stays well under MaxTokenLen;
// Token refuses a spec whose token would not.
const (
	MaxTokenLen  = 4 << 10
	MaxSpecJSON  = 64 << 10
	MinSecretLen = 16
	macLen       = 16 // bytes of HMAC-SHA256 kept: 128 bits
)

// Signer makes and checks chart URLs. The URL carries the chart's spec,
// compressed, and a MAC of it under a secret every instance shares, so any
// instance serves any chart and only cardflow can make one. A Signer is
// safe for concurrent use.
type Signer struct {
	key   []byte
	draw  func(Spec) ([]byte, error) // render; a test makes it fail
	drawn *pngCache
}

var b64 = base64.RawURLEncoding

// deflaters keeps flate writers for reuse: a new one allocates about
// 800 KB, 2 ms for a 300-byte spec, which would dominate a digest that
// signs a URL per recipient. BestSpeed resets in a tenth of the time of
// the better levels and makes a week's URL 4 % longer (312 bytes, not 300).
var deflaters = sync.Pool{New: func() any {
	zw, err := flate.NewWriter(nil, flate.BestSpeed)
	if err != nil {
		panic(err) // only for a level out of range
	}
	return zw
}}

// NewSigner returns a Signer keyed by secret, which must be at least
// MinSecretLen bytes. The MAC key is derived from it, so the same secret
// used elsewhere never signs the same bytes.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("chart: signing secret: %d bytes, at least %d", len(secret), MinSecretLen)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("cardflow chart url v1"))
	return &Signer{key: m.Sum(nil), draw: render, drawn: newPNGCache()}, nil
}

// URL returns base + "/charts/" + token + ".png", where the token is the
// spec, as JSON, deflated and base64url-encoded, a dot, and its MAC. A
// week of two series makes a URL of about 300 bytes. The same spec makes
// the same URL, so clients cache it; a Go upgrade may change the deflated
// bytes, and so the URL, but an older URL still verifies.
func (s *Signer) URL(base string, spec Spec) (string, error) {
	tok, err := s.Token(spec)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + "/charts/" + tok + ".png", nil
}

// Token returns the signed token of a spec (the URL's last segment, without
// .png). It returns an error wrapping ErrInvalid if the spec breaks a limit.
func (s *Signer) Token(spec Spec) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	js, err := json.Marshal(toWire(spec))
	if err != nil {
		return "", fmt.Errorf("chart: encode spec: %w", err)
	}
	var buf bytes.Buffer
	zw := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(js); err != nil {
		return "", fmt.Errorf("chart: compress spec: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("chart: compress spec: %w", err)
	}
	payload := b64.EncodeToString(buf.Bytes())
	tok := payload + "." + b64.EncodeToString(s.mac(payload))
	if len(tok) > MaxTokenLen {
		return "", fmt.Errorf("%w: token of %d bytes, at most %d", ErrInvalid, len(tok), MaxTokenLen)
	}
	return tok, nil
}

// errBadToken is every reason a token is refused; the handler answers 404
// whichever it is, so a caller learns nothing about a MAC or a payload.
var errBadToken = errors.New("chart: bad token")

// Verify checks a token's MAC, in constant time, before anything else
// reads it, then inflates it (at most MaxSpecJSON bytes) and returns the
// spec, which has passed Validate.
func (s *Signer) Verify(tok string) (Spec, error) {
	if len(tok) > MaxTokenLen {
		return Spec{}, fmt.Errorf("%w: %d bytes", errBadToken, len(tok))
	}
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return Spec{}, fmt.Errorf("%w: no MAC", errBadToken)
	}
	mac, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, s.mac(payload)) {
		return Spec{}, fmt.Errorf("%w: MAC mismatch", errBadToken)
	}
	raw, err := b64.DecodeString(payload)
	if err != nil {
		return Spec{}, fmt.Errorf("%w: payload: %w", errBadToken, err)
	}
	zr := flate.NewReader(bytes.NewReader(raw))
	defer zr.Close()
	js, err := io.ReadAll(io.LimitReader(zr, MaxSpecJSON+1))
	if err != nil {
		return Spec{}, fmt.Errorf("%w: inflate: %w", errBadToken, err)
	}
	if len(js) > MaxSpecJSON {
		return Spec{}, fmt.Errorf("%w: inflates past %d bytes", errBadToken, MaxSpecJSON)
	}
	var w wireSpec
	if err := json.Unmarshal(js, &w); err != nil {
		return Spec{}, fmt.Errorf("%w: decode: %w", errBadToken, err)
	}
	spec := w.spec()
	if err := spec.Validate(); err != nil {
		return Spec{}, fmt.Errorf("%w: %w", errBadToken, err)
	}
	return spec, nil
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)[:macLen]
}

// wireSpec is a Spec as a token carries it: short keys, and null for a NaN
// value, which JSON cannot write.
type wireSpec struct {
	Title  string       `json:"t,omitempty"`
	Unit   Unit         `json:"u"`
	Locale string       `json:"z,omitempty"`
	Labels []string     `json:"l"`
	Series []wireSeries `json:"s"`
}

type wireSeries struct {
	Name   string     `json:"n,omitempty"`
	Values []*float64 `json:"v"`
}

func toWire(s Spec) wireSpec {
	w := wireSpec{Title: s.Title, Unit: s.Unit, Locale: s.Locale, Labels: s.Labels, Series: make([]wireSeries, len(s.Series))}
	for i, se := range s.Series {
		vs := make([]*float64, len(se.Values))
		for j, v := range se.Values {
			if !math.IsNaN(v) {
				// Six significant digits are finer than a pixel and keep
				// the URL short.
				r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
				vs[j] = &r
			}
		}
		w.Series[i] = wireSeries{Name: se.Name, Values: vs}
	}
	return w
}

func (w wireSpec) spec() Spec {
	s := Spec{Title: w.Title, Unit: w.Unit, Locale: w.Locale, Labels: w.Labels, Series: make([]Series, len(w.Series))}
	for i, ws := range w.Series {
		vs := make([]float64, len(ws.Values))
		for j, v := range ws.Values {
			vs[j] = math.NaN()
			if v != nil {
				vs[j] = *v
			}
		}
		s.Series[i] = Series{Name: ws.Name, Values: vs}
	}
	return s
}
