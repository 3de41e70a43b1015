package server

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriteUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string
	}{
		{name: "whole seconds", retryAfter: 5 * time.Second, want: "5"},
		{name: "rounded up", retryAfter: 1500 * time.Millisecond, want: "2"},
		{name: "never below one second", retryAfter: 0, want: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			WriteUnavailable(rec, tt.retryAfter, "the store is unreachable; try again shortly")
			require.Equal(t, 503, rec.Code)
			require.Equal(t, tt.want, rec.Header().Get("Retry-After"))
			require.JSONEq(t, `{"error":{"code":"unavailable","message":"the store is unreachable; try again shortly"}}`, rec.Body.String())
		})
	}
}
