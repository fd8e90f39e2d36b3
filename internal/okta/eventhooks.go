package okta

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// EventHook is Okta's EventHook object, as far as idwatch reads and writes it.
type EventHook struct {
	ID                 string           `json:"id,omitempty"`
	Name               string           `json:"name"`
	Status             string           `json:"status,omitempty"`
	VerificationStatus string           `json:"verificationStatus,omitempty"`
	Events             EventHookEvents  `json:"events"`
	Channel            EventHookChannel `json:"channel"`
}

// EventHookEvents is a hook's subscription (type EVENT_TYPE).
type EventHookEvents struct {
	Type  string   `json:"type"`
	Items []string `json:"items"`
}

// EventHookChannel is where and how Okta delivers.
type EventHookChannel struct {
	Type    string                 `json:"type"`
	Version string                 `json:"version"`
	Config  EventHookChannelConfig `json:"config"`
}

// EventHookChannelConfig holds the receiver URI and the shared-secret header.
type EventHookChannelConfig struct {
	URI        string               `json:"uri"`
	AuthScheme *EventHookAuthScheme `json:"authScheme,omitempty"`
}

// EventHookAuthScheme is the header Okta sends on every delivery; Value is write-only.
type EventHookAuthScheme struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// hookCall runs one event hook management call and decodes the hook it returns (if out is set).
func (c *Client) hookCall(ctx context.Context, method, path string, in any, out *EventHook) error {
	cl := &call{method: method, url: c.org.URL(path, url.Values{}), lane: LaneResponse, idempotent: method == http.MethodGet}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		cl.jsonBody = b
	}
	res, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if out == nil || len(res.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(res.body, out); err != nil {
		return &MalformedPageError{Path: path, Bytes: len(res.body), Reason: clean(err.Error(), 200)}
	}
	return nil
}

// CreateEventHook creates h (okta.eventHooks.manage); Okta creates it ACTIVE and UNVERIFIED.
func (c *Client) CreateEventHook(ctx context.Context, h EventHook) (EventHook, error) {
	var out EventHook
	err := c.hookCall(ctx, http.MethodPost, "/api/v1/eventHooks", h, &out)
	return out, err
}

// EventHookLifecycle runs activate, deactivate or verify on the hook and returns it.
func (c *Client) EventHookLifecycle(ctx context.Context, id, op string) (EventHook, error) {
	var out EventHook
	err := c.hookCall(ctx, http.MethodPost, "/api/v1/eventHooks/"+url.PathEscape(id)+"/lifecycle/"+op, nil, &out)
	return out, err
}

// GetEventHook returns one hook.
func (c *Client) GetEventHook(ctx context.Context, id string) (EventHook, error) {
	var out EventHook
	err := c.hookCall(ctx, http.MethodGet, "/api/v1/eventHooks/"+url.PathEscape(id), nil, &out)
	return out, err
}

// DeleteEventHook deletes an INACTIVE hook.
func (c *Client) DeleteEventHook(ctx context.Context, id string) error {
	return c.hookCall(ctx, http.MethodDelete, "/api/v1/eventHooks/"+url.PathEscape(id), nil, nil)
}
