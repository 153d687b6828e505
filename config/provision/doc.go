// Package provision is configuration as code: one YAML document describes the
// box's configuration (today the system settings, the users, the SIP
// extensions with their call features, and the feature-code table, with one numbering plan across
// extensions and agent numbers), Export reads
// it from the store, and Apply makes the store match it — validated in full
// first, then written in one transaction, idempotently.
//
// It imports config/store and config/password and must not import media, pbx,
// webui or appliance: the CLI (`appliance export`, `appliance apply`) and the
// API (POST /api/v1/config/apply) call it. docs/configuration-as-code.md is the
// user-facing description of the schema; keep the two in step.
package provision
