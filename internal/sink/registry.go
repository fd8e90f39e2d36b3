package sink

import (
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Spec is a sink type's typed options. Validate checks them without I/O; Build makes the sink.
type Spec interface {
	Validate() error
	Build(env Env) (Sink, error)
}

// Env is what a sink gets from the process around it.
type Env struct {
	// Name is the sink's configured name.
	Name   string
	Logger *slog.Logger
	Clock  Clock
	// HTTPClient is the base client for HTTP sinks (its transport is cloned when the sink sets TLS
	// options); nil means a default client.
	HTTPClient *http.Client
}

// Type is one registered sink type.
type Type struct {
	Name    string
	Summary string
	// New returns a Spec holding the type's defaults, ready to decode options into.
	New func() Spec
}

// Option documents one option of a sink type, read from the Spec's struct tags.
type Option struct {
	Name, Type, Default, Doc string
}

// Options lists t's options with their defaults, for `idwatch sinks types` and the docs.
func (t Type) Options() []Option {
	var out []Option
	collectOptions(reflect.ValueOf(t.New()).Elem(), "", &out)
	return out
}

func collectOptions(v reflect.Value, prefix string, out *[]Option) {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("doc") == "" {
			collectOptions(fv, prefix+name+".", out)
			continue
		}
		*out = append(*out, Option{Name: prefix + name, Type: typeName(f.Type), Default: defaultText(fv), Doc: f.Tag.Get("doc")})
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "duration"
	case t.Name() == "Value" && strings.HasSuffix(t.PkgPath(), "/secret"):
		return "secret"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem())
	}
	return t.Kind().String()
}

func defaultText(v reflect.Value) string {
	if v.IsZero() {
		return ""
	}
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String()
	}
	return fmt.Sprint(v.Interface())
}

// Registry maps type names to sink types.
type Registry struct {
	types map[string]Type
}

// NewRegistry returns a registry holding the built-in sink types and any extra ones.
func NewRegistry(extra ...Type) (*Registry, error) {
	r := &Registry{types: map[string]Type{}}
	for _, t := range append(builtins(), extra...) {
		if err := r.Register(t); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds a type; a name already taken is an error.
func (r *Registry) Register(t Type) error {
	if t.Name == "" || t.New == nil {
		return fmt.Errorf("sink type %q: needs a name and a New function", t.Name)
	}
	if _, dup := r.types[t.Name]; dup {
		return fmt.Errorf("sink type %q is registered twice", t.Name)
	}
	r.types[t.Name] = t
	return nil
}

// Lookup returns the type registered under name.
func (r *Registry) Lookup(name string) (Type, bool) {
	t, ok := r.types[name]
	return t, ok
}

// Types returns the registered types by name.
func (r *Registry) Types() []Type {
	out := make([]Type, 0, len(r.types))
	for _, t := range r.types {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Type) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Names returns the registered type names, sorted.
func (r *Registry) Names() []string {
	var out []string
	for _, t := range r.Types() {
		out = append(out, t.Name)
	}
	return out
}

// builtins lists the sink types idwatch ships.
func builtins() []Type {
	return []Type{fileType(), webhookType(), hecType(), kafkaType(), natsType(), syslogType()}
}
