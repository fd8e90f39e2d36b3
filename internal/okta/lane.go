package okta

import (
	"context"
	"strings"
)

// Lane is a caller's priority class at the rate governor. Lower values go first when a bucket's
// budget is scarce.
type Lane int

// The lanes, highest priority first.
const (
	LaneResponse  Lane = iota // response actions (suspend, clear sessions): a human or rule is waiting
	LaneLogs                  // live System Log collection
	LaneInventory             // users, groups, roles, schema sync
	LaneBackfill              // historical System Log windows
	numLanes
)

var laneNames = [numLanes]string{"response", "logs", "inventory", "backfill"}

// String names the lane.
func (l Lane) String() string {
	if l >= 0 && l < numLanes {
		return laneNames[l]
	}
	return "unknown"
}

type laneKey struct{}

// WithLane returns a context whose Okta calls are governed in the given lane; without it each
// call uses its natural lane (logs for Logs, inventory for reads, response for lifecycle actions).
func WithLane(ctx context.Context, l Lane) context.Context {
	return context.WithValue(ctx, laneKey{}, l)
}

func laneFrom(ctx context.Context, def Lane) Lane {
	if l, ok := ctx.Value(laneKey{}).(Lane); ok && l >= 0 && l < numLanes {
		return l
	}
	return def
}

// Bucket keys, mirroring how Okta groups endpoints into rate-limit buckets.
const (
	BucketToken     = "token"      // POST /oauth2/v1/token
	BucketLogs      = "logs"       // /api/v1/logs
	BucketUsers     = "users"      // GET/POST /api/v1/users (list, search, create)
	BucketUser      = "user"       // GET /api/v1/users/{id}
	BucketUserWrite = "user-write" // POST/PUT/DELETE /api/v1/users/{id} and its lifecycle and session actions
	BucketAPI       = "api"        // every other /api/v1 endpoint
	BucketOther     = "other"      // anything outside /api/v1 and the token endpoint
)

// BucketFor returns the rate-limit bucket a request falls into.
func BucketFor(method, path string) string {
	const users = "/api/v1/users"
	switch {
	case path == tokenPath:
		return BucketToken
	case path == "/api/v1/logs":
		return BucketLogs
	case path == users || path == users+"/":
		return BucketUsers
	case strings.HasPrefix(path, users+"/"):
		rest := strings.Trim(path[len(users)+1:], "/")
		get := method == "GET" || method == "HEAD"
		switch {
		case !strings.Contains(rest, "/") && get:
			return BucketUser
		case !get:
			return BucketUserWrite
		}
		return BucketAPI
	case strings.HasPrefix(path, "/api/v1/"):
		return BucketAPI
	}
	return BucketOther
}
