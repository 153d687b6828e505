package webui

import (
	"sort"

	"github.com/ccbox/ccbox/config/store"
)

// Permission is what a route requires of the caller.
type Permission string

const (
	// PermPublic routes need no login (login itself, branding, health).
	PermPublic Permission = "public"
	// PermSignedIn routes need any logged-in user (own profile, own tokens).
	PermSignedIn Permission = "signed_in"
	// PermUsersRead lists users (supervisors see their agents).
	PermUsersRead Permission = "users.read"
	// PermUsersWrite creates, edits, disables and deletes users.
	PermUsersWrite Permission = "users.write"
	// PermSettingsWrite edits system settings such as the title.
	PermSettingsWrite Permission = "settings.write"
	// PermLogsRead reads the login and audit logs.
	PermLogsRead Permission = "logs.read"
	// PermConfigRead exports the configuration document.
	PermConfigRead Permission = "config.read"
	// PermConfigWrite applies a configuration document.
	PermConfigWrite Permission = "config.write"
	// PermBackup downloads backups and restores them.
	PermBackup Permission = "backup"
	// PermDebug reads the runtime's profiles (CPU, heap, goroutines).
	PermDebug Permission = "debug"
	// PermCallsRead reads every call detail record. Agents do not have it:
	// when they get a view of calls it will be of their own calls only.
	PermCallsRead Permission = "calls.read"
)

// rolePermissions is the one table of who may do what. Public and
// signed-in permissions are implied for every role.
var rolePermissions = map[store.Role][]Permission{
	store.RoleAdmin: {
		PermUsersRead, PermUsersWrite, PermSettingsWrite, PermLogsRead,
		PermConfigRead, PermConfigWrite, PermBackup, PermDebug, PermCallsRead,
	},
	store.RoleSupervisor: {PermUsersRead, PermCallsRead},
	store.RoleAgent:      {},
}

// allows reports whether role may use a route needing p.
func allows(role store.Role, p Permission) bool {
	if p == PermPublic {
		return true
	}
	perms, known := rolePermissions[role]
	if !known {
		return false
	}
	if p == PermSignedIn {
		return true
	}
	for _, have := range perms {
		if have == p {
			return true
		}
	}
	return false
}

// roles lists the known roles in a fixed order.
func roles() []store.Role {
	out := make([]store.Role, 0, len(rolePermissions))
	for r := range rolePermissions {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
