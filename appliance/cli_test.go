package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantPos  []string
		wantDry  bool
		wantData string
	}{
		{[]string{"doc.yaml"}, []string{"doc.yaml"}, false, ""},
		{[]string{"--dry-run", "doc.yaml"}, []string{"doc.yaml"}, true, ""},
		{[]string{"doc.yaml", "--dry-run", "-data-dir", "/d"}, []string{"doc.yaml"}, true, "/d"},
		{[]string{"a", "b", "--dry-run"}, []string{"a", "b"}, true, ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		dry := fs.Bool("dry-run", false, "")
		data := fs.String("data-dir", "", "")
		pos, err := parseInterleaved(fs, tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if !slices.Equal(pos, tc.wantPos) || *dry != tc.wantDry || *data != tc.wantData {
			t.Errorf("%v: positional %v dry %v data %q", tc.args, pos, *dry, *data)
		}
	}
}

func TestDispatchUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"version"}, exitOK},
		{[]string{"help"}, exitOK},
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"run", "extra"}, exitUsage},
		{[]string{"apply"}, exitUsage},
		{[]string{"export", "extra"}, exitUsage},
		{[]string{"run", "-no-such-flag"}, exitUsage},
	} {
		var out, errOut bytes.Buffer
		getenv := func(k string) string {
			if k == "APPLIANCE_DATA_DIR" {
				return t.TempDir()
			}
			return ""
		}
		got := dispatch(context.Background(), tc.args, getenv, strings.NewReader(""), &out, &errOut)
		if got != tc.want {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, got, tc.want, errOut.String())
		}
		if tc.want == exitUsage && errOut.Len() == 0 {
			t.Errorf("%v: nothing on stderr", tc.args)
		}
	}
}

func TestPrintProblemsOnePerLine(t *testing.T) {
	var b bytes.Buffer
	printProblems(&b, errorsJoin("one", "two", "three"))
	if got := strings.Count(b.String(), "\n"); got != 3 {
		t.Fatalf("%d lines: %q", got, b.String())
	}
}

func errorsJoin(msgs ...string) error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = errors.New(m)
	}
	return errors.Join(errs...)
}
