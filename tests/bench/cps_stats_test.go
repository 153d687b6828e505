package bench

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseSIPpStats(t *testing.T) {
	const head = "StartTime;LastResetTime;CurrentTime;TotalCallCreated;SuccessfulCall(C);FailedCall(C);\n"
	tests := []struct {
		name    string
		in      string
		want    sippStats
		wantErr bool
	}{
		{"last line counts", head + "a;b;c;10;9;1;\na;b;c;500;498;2;\n", sippStats{created: 500, ok: 498, failed: 2}, false},
		{"header only", head, sippStats{}, true},
		{"column missing", "StartTime;TotalCallCreated;\nx;5;\n", sippStats{}, true},
		{"not a number", head + "a;b;c;x;1;1;\n", sippStats{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSIPpStats(strings.NewReader(tt.in))
			if tt.wantErr {
				if !errors.Is(err, errSIPpStats) {
					t.Fatalf("parseSIPpStats = %+v, %v; want errSIPpStats", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseSIPpStats = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestExtensionDoc(t *testing.T) {
	var doc struct {
		Version    int `json:"version"`
		Extensions map[string]struct {
			Secret   string `json:"secret"`
			MaxCalls int    `json:"max_calls"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(extensionDoc(2001, 3), &doc); err != nil {
		t.Fatal(err)
	}
	e, ok := doc.Extensions["2003"]
	if doc.Version != 1 || len(doc.Extensions) != 3 || !ok || e.Secret != extSecretPrefix+"2003" || e.MaxCalls != benchMaxCalls {
		t.Fatalf("document %+v", doc)
	}
}
