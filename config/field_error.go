package config

import (
	"strconv"
	"strings"
)

// FieldError is one configuration problem. Load and Validate return every
// problem at once as an errors.Join of *FieldError; use errors.As or walk
// the joined errors to get them.
type FieldError struct {
	// Field is the YAML name of the setting, e.g. "rtp_ports"; empty for a
	// problem with the file as a whole (unreadable, not YAML).
	Field string
	// Source says where the offending value came from: "default",
	// "file app.yaml line 3", an environment variable name such as
	// "APPLIANCE_RTP_PORTS", or a flag such as "-rtp-ports". Empty when it is
	// not known (Validate on a Config built in code).
	Source string
	// Problem says what is wrong, for people.
	Problem string
	// Err is the underlying error when there is one (for example the
	// fs.ErrNotExist of a missing config file); it is what Unwrap returns.
	Err error
}

// Error returns, e.g.,
// `config: rtp_ports (APPLIANCE_RTP_PORTS): "10-5" is not a range: first port is above last`.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	switch {
	case e.Field != "" && e.Source != "":
		b.WriteString(e.Field + " (" + e.Source + ")")
	case e.Field != "":
		b.WriteString(e.Field)
	default:
		b.WriteString(e.Source)
	}
	b.WriteString(": ")
	switch {
	case e.Problem != "":
		b.WriteString(e.Problem)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *FieldError) Unwrap() error { return e.Err }

// Names of the value sources, as they appear in FieldError.Source.
const sourceDefault = "default"

// fileSource names a line of a config file.
func fileSource(path string, line int) string {
	if line <= 0 {
		return "file " + path
	}
	return "file " + path + " line " + strconv.Itoa(line)
}

// sourceRank orders sources by precedence, so that a clash between two
// settings is reported on the one that was set last (the likely mistake).
func sourceRank(src string) int {
	switch {
	case strings.HasPrefix(src, "-"):
		return 3
	case strings.HasPrefix(src, "APPLIANCE_"):
		return 2
	case strings.HasPrefix(src, "file "):
		return 1
	default:
		return 0
	}
}
