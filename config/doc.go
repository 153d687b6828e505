// Package config owns the appliance's bootstrap configuration: the few
// settings needed before the store is open (listen addresses, data
// directory, RTP port range, public IP, TLS files, log level, session
// lifetime, first-start admin password).
//
// A Config is built in one direction of precedence: embedded defaults, then
// an optional YAML file, then APPLIANCE_* environment variables, then the
// command-line flags that were explicitly set. Every problem found on the
// way (unknown YAML keys, values that do not parse, values that parse but are
// not allowed) is reported at once as an errors.Join of *FieldError, each
// naming the key, where the bad value came from and what is wrong with it.
//
// Everything an administrator edits in the web UI lives in the store, not
// here. This package must not import any other package of this module: it is
// the root of the dependency graph (config → media → pbx → webui → appliance).
// Its subpackages (cert, store, ...) are separate and this package does not
// import them either.
package config
