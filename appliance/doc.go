// Command appliance is the whole PBX and call-center box in one binary.
//
//	appliance [run] [flags]             start the box (the default)
//	appliance export [flags]            print the configuration document (YAML)
//	appliance apply [flags] FILE        apply a configuration document
//	appliance backup [flags] FILE       write a backup of the store
//	appliance restore [flags] FILE      replace the store with a backup
//	appliance version                   print the version
//
// This package is the composition root: it reads the bootstrap
// configuration, builds every component, runs them and shuts them down in
// a written order (run.go). sip.go adapts the store to the SIP server
// (extensions' secrets, registrations kept across restarts) and turns its
// registration changes into device.state_changed events. Nothing imports it.
package main
