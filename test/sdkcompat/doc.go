// Package sdkcompat checks that Okta's own Go SDK (okta-sdk-golang v5) works against oktasim: it is
// a test-only module, so the SDK and its dependencies stay out of idwatch's own module.
package sdkcompat
