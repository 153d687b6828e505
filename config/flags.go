package config

import (
	"errors"
	"flag"
)

// Flags holds the configuration flags registered on a FlagSet by AddFlags.
// Flag values are only read by Load, and only for the flags that were set
// on the command line, so their defaults are shown in -help but never
// override the file or the environment.
type Flags struct {
	fs     *flag.FlagSet
	config *string
}

// AddFlags registers the configuration flags on fs: -config FILE, -data-dir,
// -http-addr, -https-addr, -sip-addr, -rtp-ports, -public-ip, -log-level,
// -trusted-networks, -tls-cert-file, -tls-key-file, -session-ttl. There is
// no flag for the admin password: it would show in ps.
func AddFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	f.config = fs.String("config", "", "YAML configuration file (env APPLIANCE_CONFIG)")
	def := Default()
	for _, fd := range fields() {
		if fd.flag == "" {
			continue
		}
		fs.String(fd.flag, fd.get(def), fd.usage+" (env "+fd.env+")")
	}
	return f
}

// Load builds the configuration after fs.Parse: the defaults, then the file
// named by -config or else APPLIANCE_CONFIG (if any), then the APPLIANCE_*
// environment, then the flags that were set on the command line. getenv is
// os.Getenv in production; an empty variable counts as unset.
//
// The error, if any, is an errors.Join of *FieldError holding every problem
// found (file, environment, flags, then Validate). The Config returned with
// an error is what could be read, for reporting only.
func (f *Flags) Load(getenv func(string) string) (Config, error) {
	c := Default()
	src := make(map[string]string)
	var errs []*FieldError

	path, pathSrc := getenv("APPLIANCE_CONFIG"), "APPLIANCE_CONFIG"
	f.fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "config" {
			path, pathSrc = *f.config, "-config"
		}
	})
	if path != "" {
		errs = append(errs, loadFile(&c, src, path, pathSrc)...)
	}

	table := fields()
	for _, fd := range table {
		v := getenv(fd.env)
		if v == "" {
			continue
		}
		if err := fd.set(&c, v); err != nil {
			errs = append(errs, &FieldError{Field: fd.name, Source: fd.env, Problem: err.Error(), Err: err})
			continue
		}
		src[fd.name] = fd.env
	}

	byFlag := make(map[string]field, len(table))
	for _, fd := range table {
		if fd.flag != "" {
			byFlag[fd.flag] = fd
		}
	}
	f.fs.Visit(func(fl *flag.Flag) {
		fd, ok := byFlag[fl.Name]
		if !ok {
			return
		}
		if err := fd.set(&c, fl.Value.String()); err != nil {
			errs = append(errs, &FieldError{Field: fd.name, Source: "-" + fd.flag, Problem: err.Error(), Err: err})
			return
		}
		src[fd.name] = "-" + fd.flag
	})

	errs = append(errs, c.validate(func(name string) string {
		if s, ok := src[name]; ok {
			return s
		}
		return sourceDefault
	})...)
	return c, joinFieldErrors(errs)
}

// joinFieldErrors is errors.Join for *FieldError, nil when there are none.
func joinFieldErrors(errs []*FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}
