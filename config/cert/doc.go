// Package cert owns the appliance's TLS certificate, used by the HTTPS
// listener (and later SIP over TLS): it loads an administrator-installed
// certificate and key, or creates and keeps renewed a self-signed one in
// the data directory.
//
// A self-signed certificate is what lets a fresh box serve HTTPS at once,
// which browsers require before they give the agent workbench the
// microphone. It names every way the box is likely to be reached (its host
// name, localhost, every local address, the configured public IP), so that
// once a browser accepts it for one of them it works for all of them.
//
// This package takes plain values (paths, addresses, time) and must not
// import any other package of this module, not even config.
package cert
