// Package provision is configuration as code: one YAML document describes the
// box's configuration (the system settings, the users, the SIP extensions
// with their call features, the feature-code table, with one numbering plan
// across extensions and agent numbers; the trunks, DIDs and inbound default,
// outbound routes, caller-number pools, blacklist and outbound policy).
// Export reads it from the store, and Apply makes the store match it —
// validated in full first, then written in one transaction, idempotently.
//
// It imports config/store and config/password and must not import media, pbx,
// webui or appliance, so dial patterns are checked here by a checker of its
// own (CheckPattern) mirroring pbx/dialplan's parser. The CLI (`appliance
// export`, `appliance apply`) and the API (POST /api/v1/config/apply) call
// it; the API also shares its Check functions and CheckReferences.
// docs/configuration-as-code.md is the user-facing description of the
// schema; keep the two in step.
package provision
