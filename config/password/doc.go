// Package password hashes and checks people's passwords: bcrypt with a bound
// on concurrent hashing, the password policy, and random first-start
// passwords.
//
// It imports only the standard library and golang.org/x/crypto/bcrypt, and
// must not import the store, media, pbx or webui: callers hand it strings.
package password
