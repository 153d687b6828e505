package config

import (
	"errors"
	"flag"
	"io"
	"testing"
)

// fieldErrors flattens an errors.Join of *FieldError; it fails the test on
// any other kind of error.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]*FieldError, 0, len(errs))
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v (%T) is not a *FieldError", e, e)
		}
		out = append(out, fe)
	}
	return out
}

// load parses args with the configuration flags and runs Load with env as
// the environment.
func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("appliance", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return f.Load(func(k string) string { return env[k] })
}

// want is the expected shape of one FieldError: field and source must be
// equal; problem text is not compared.
type want struct{ field, source string }

func checkProblems(t *testing.T, err error, wants []want) {
	t.Helper()
	got := fieldErrors(t, err)
	if len(got) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%v", len(got), len(wants), err)
	}
	for i, w := range wants {
		if got[i].Field != w.field || got[i].Source != w.source {
			t.Errorf("problem %d: got field %q source %q (%v), want field %q source %q",
				i, got[i].Field, got[i].Source, got[i], w.field, w.source)
		}
		if got[i].Problem == "" {
			t.Errorf("problem %d: empty Problem", i)
		}
	}
}

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("appliance", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}
